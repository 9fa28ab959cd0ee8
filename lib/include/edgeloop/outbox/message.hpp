#pragma once

#include <edgeloop/aws/publish.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace edgeloop::outbox {

/// One queued message: what to publish (an aws::publish_request whose endpoint and port are left to
/// the sender: the topic, payload, QoS, retain and the MQTT 5 properties are stored) and its record.
struct message {
    aws::publish_request publish;
    /// Set by the store: position in the queue (increasing, never reused in one database).
    std::int64_t seq = 0;
    /// Set by the store: "<database id>-<seq>", unique across databases (the database id is random,
    /// made when the file is created). Send it with the message so consumers can drop duplicates.
    std::string id;
    std::chrono::system_clock::time_point enqueued_at{};
    /// Failed tries so far, and the reason of the last one.
    std::uint32_t attempts = 0;
    std::string last_error;
};

} // namespace edgeloop::outbox
