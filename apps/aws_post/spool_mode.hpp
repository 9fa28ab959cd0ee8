#pragma once

// aws_post --spool: store and forward through the outbox module (README: "aws_post --spool").

#include "options.hpp"

#include <edgeloop/aws/publish.hpp>
#include <edgeloop/core/reactor.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/request.hpp>

#include <boost/system/error_code.hpp>

#include <functional>

namespace aws_post {

/// `--spool PATH --status` / `--dead-letters`: prints the spool's figures or its dead letters. Returns the
/// exit status (3 when the spool cannot be read, naming it).
int show_spool(const options& opt);

/// The long-running publisher: opens the spool, queues --stdin's JSON lines (or --count copies of the
/// message) and publishes continuously through `client`, leftovers first; returns the exit status.
/// `base` holds the endpoint, port and the command line's MQTT 5 properties; `sign` (may be empty) signs
/// each attempt (SigV4).
int run_spool(const options& opt, edgeloop::core::reactor& reactor, edgeloop::http::client& client,
              const edgeloop::aws::publish_request& base,
              std::function<boost::system::error_code(edgeloop::http::request&)> sign);

} // namespace aws_post
