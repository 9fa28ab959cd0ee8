#include <edgeloop/outbox.hpp>

#include <edgeloop/aws/error.hpp>
#include <edgeloop/http/error.hpp>

#include "support/process.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace outbox = edgeloop::outbox;
namespace aws = edgeloop::aws;
using namespace std::chrono_literals;
using clock_type = std::chrono::system_clock;

namespace {

struct temp_db {
    std::string dir = edgeloop::test::make_temp_dir("outbox");
    std::string path = dir + "/spool.db";
    ~temp_db() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

outbox::message msg(std::string topic, std::string payload) {
    outbox::message m;
    m.publish.topic = std::move(topic);
    m.publish.payload = std::move(payload);
    return m;
}

outbox::store open_store(const outbox::options& o) {
    outbox::store s;
    outbox::open_report report;
    const auto ec = s.open(o, report);
    BOOST_REQUIRE_MESSAGE(!ec, ec.message() << ": " << s.last_error());
    BOOST_REQUIRE(report.moved_aside_to.empty());
    return s;
}

std::vector<std::string> drain_payloads(outbox::store& s) {
    std::vector<std::string> out;
    for (;;) {
        auto head = s.front();
        BOOST_REQUIRE(head);
        if (!*head)
            return out;
        out.push_back((*head)->publish.payload);
        BOOST_REQUIRE(!s.remove((*head)->seq));
    }
}

const auto t0 = clock_type::time_point(std::chrono::seconds(1'800'000'000));

} // namespace

BOOST_AUTO_TEST_SUITE(outbox_store)

BOOST_AUTO_TEST_CASE(messages_come_out_in_enqueue_order_and_survive_reopening) {
    temp_db t;
    {
        auto s = open_store({.path = t.path});
        for (int i = 0; i < 5; ++i) {
            auto m = msg(i % 2 ? "b" : "a", std::to_string(i));
            auto seq = s.enqueue(m, t0);
            BOOST_REQUIRE(seq);
            BOOST_TEST(m.id.ends_with("-" + std::to_string(*seq)));
        }
    }
    auto s = open_store({.path = t.path});
    BOOST_TEST(s.statistics()->depth == 5u);
    BOOST_TEST(drain_payloads(s) == (std::vector<std::string>{"0", "1", "2", "3", "4"}));
    BOOST_TEST(s.statistics()->depth == 0u);
    BOOST_TEST(s.statistics()->bytes == 0u);
}

BOOST_AUTO_TEST_CASE(topic_qos_retain_and_publish_properties_are_kept) {
    temp_db t;
    auto s = open_store({.path = t.path});
    auto m = msg("sensors/t", std::string("\0binary\xff", 8));
    m.publish.qos = 0;
    m.publish.retain = true;
    m.publish.mqtt_content_type = "application/json";
    m.publish.response_topic = "replies/1";
    m.publish.message_expiry = 60;
    m.publish.user_properties = {{"a", "1"}, {"a", "2"}};
    m.publish.format = aws::payload_format::unspecified_bytes;
    m.publish.correlation_data = std::string("\x01\x02", 2);
    BOOST_REQUIRE(s.enqueue(m, t0));
    auto head = s.front();
    BOOST_REQUIRE(head && *head);
    const auto& p = (*head)->publish;
    BOOST_TEST(p.topic == "sensors/t");
    BOOST_TEST(p.payload == m.publish.payload);
    BOOST_TEST(p.qos == 0);
    BOOST_TEST(p.retain);
    BOOST_TEST(p.mqtt_content_type == "application/json");
    BOOST_TEST(p.response_topic == "replies/1");
    BOOST_TEST(p.message_expiry.value_or(0) == 60u);
    BOOST_TEST((p.user_properties == m.publish.user_properties));
    BOOST_TEST((p.format == aws::payload_format::unspecified_bytes));
    BOOST_TEST(p.correlation_data == m.publish.correlation_data);
    BOOST_TEST((*head)->id == m.id);
    BOOST_TEST(((*head)->enqueued_at == t0));
}

BOOST_AUTO_TEST_CASE(message_ids_differ_between_databases) {
    temp_db t1, t2;
    auto s1 = open_store({.path = t1.path});
    auto s2 = open_store({.path = t2.path});
    auto a = msg("t", "x");
    auto b = msg("t", "x");
    BOOST_REQUIRE(s1.enqueue(a, t0));
    BOOST_REQUIRE(s2.enqueue(b, t0));
    BOOST_TEST(a.seq == b.seq);
    BOOST_TEST(a.id != b.id);
}

BOOST_AUTO_TEST_CASE(quota_refuse_keeps_the_queue_and_fails_the_new_message) {
    temp_db t;
    auto s = open_store({.path = t.path, .max_messages = 3});
    for (int i = 0; i < 3; ++i) {
        auto m = msg("t", std::to_string(i));
        BOOST_REQUIRE(s.enqueue(m, t0));
    }
    auto extra = msg("t", "3");
    auto r = s.enqueue(extra, t0);
    BOOST_TEST((!r && r.error() == outbox::error::full));
    BOOST_TEST(drain_payloads(s) == (std::vector<std::string>{"0", "1", "2"}));
    BOOST_TEST(s.statistics()->dropped == 0u);
}

BOOST_AUTO_TEST_CASE(quota_by_bytes_drop_oldest_counts_what_it_dropped) {
    temp_db t;
    // Each message is 1 (topic) + 10 (payload) bytes: three fit in 35.
    auto s = open_store({.path = t.path, .max_bytes = 35, .when_full = outbox::full_policy::drop_oldest});
    for (int i = 0; i < 5; ++i) {
        auto m = msg("t", std::string(9, 'x') + std::to_string(i));
        BOOST_REQUIRE(s.enqueue(m, t0));
    }
    BOOST_TEST(s.statistics()->dropped == 2u);
    BOOST_TEST(s.statistics()->bytes == 33u);
    BOOST_TEST(drain_payloads(s) == (std::vector<std::string>{"xxxxxxxxx2", "xxxxxxxxx3", "xxxxxxxxx4"}));
    auto huge = msg("t", std::string(40, 'y'));
    auto r = s.enqueue(huge, t0);
    BOOST_TEST((!r && r.error() == outbox::error::message_too_large));
}

BOOST_AUTO_TEST_CASE(dropped_count_survives_reopening) {
    temp_db t;
    const outbox::options o{.path = t.path, .max_messages = 1, .when_full = outbox::full_policy::drop_oldest};
    {
        auto s = open_store(o);
        for (int i = 0; i < 3; ++i) {
            auto m = msg("t", std::to_string(i));
            BOOST_REQUIRE(s.enqueue(m, t0));
        }
    }
    auto s = open_store(o);
    BOOST_TEST(s.statistics()->dropped == 2u);
    BOOST_TEST(drain_payloads(s) == (std::vector<std::string>{"2"}));
}

BOOST_AUTO_TEST_CASE(ttl_moves_old_messages_to_the_dead_letters_only) {
    temp_db t;
    auto s = open_store({.path = t.path, .ttl = std::chrono::seconds(60)});
    auto old1 = msg("t", "old1");
    auto old2 = msg("u", "old2");
    auto fresh = msg("t", "fresh");
    BOOST_REQUIRE(s.enqueue(old1, t0));
    BOOST_REQUIRE(s.enqueue(old2, t0 + 10s));
    BOOST_REQUIRE(s.enqueue(fresh, t0 + 50s));
    auto n = s.expire(t0 + 75s);
    BOOST_REQUIRE(n);
    BOOST_TEST(*n == 2u);
    const auto st = s.statistics();
    BOOST_TEST(st->depth == 1u);
    BOOST_TEST(st->dead_letters == 2u);
    auto dead = s.dead_letters();
    BOOST_REQUIRE(dead);
    BOOST_REQUIRE(dead->size() == 2u);
    BOOST_TEST((*dead)[0].msg.publish.payload == "old1");
    BOOST_TEST((*dead)[0].msg.id == old1.id);
    BOOST_TEST((*dead)[0].status == 0u);
    BOOST_TEST((*dead)[0].reason.find("expired") != std::string::npos);
    BOOST_TEST(drain_payloads(s) == (std::vector<std::string>{"fresh"}));
}

BOOST_AUTO_TEST_CASE(dead_letter_keeps_status_reason_and_attempts) {
    temp_db t;
    auto s = open_store({.path = t.path});
    auto a = msg("t", "bad");
    auto b = msg("t", "good");
    BOOST_REQUIRE(s.enqueue(a, t0));
    BOOST_REQUIRE(s.enqueue(b, t0));
    BOOST_REQUIRE(!s.record_failure(a.seq, "503 Service Unavailable"));
    BOOST_REQUIRE(!s.move_to_dead_letters(a.seq, 413, "payload too large", t0 + 1s));
    auto dead = s.dead_letters();
    BOOST_REQUIRE(dead && dead->size() == 1u);
    BOOST_TEST((*dead)[0].status == 413u);
    BOOST_TEST((*dead)[0].reason == "payload too large");
    BOOST_TEST((*dead)[0].msg.attempts == 1u);
    BOOST_TEST((*dead)[0].msg.last_error == "503 Service Unavailable");
    BOOST_TEST(drain_payloads(s) == (std::vector<std::string>{"good"}));
}

BOOST_AUTO_TEST_CASE(a_corrupt_file_is_moved_aside_not_emptied) {
    temp_db t;
    {
        std::ofstream f(t.path, std::ios::binary);
        f << std::string(8192, 'G'); // not a SQLite header
    }
    outbox::store s;
    outbox::open_report report;
    BOOST_REQUIRE(!s.open({.path = t.path}, report));
    BOOST_TEST((report.reason == outbox::error::corrupt_database));
    BOOST_REQUIRE(!report.moved_aside_to.empty());
    BOOST_TEST(edgeloop::test::read_file(report.moved_aside_to) == std::string(8192, 'G'));
    auto m = msg("t", "after");
    BOOST_TEST(s.enqueue(m, t0).has_value());
}

BOOST_AUTO_TEST_CASE(a_database_of_a_newer_schema_is_moved_aside) {
    temp_db t;
    {
        auto s = open_store({.path = t.path});
        auto m = msg("t", "kept");
        BOOST_REQUIRE(s.enqueue(m, t0));
    }
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(t.path.c_str(), &db) == SQLITE_OK);
    BOOST_REQUIRE(sqlite3_exec(db, "PRAGMA user_version=7", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    outbox::store s;
    outbox::open_report report;
    BOOST_REQUIRE(!s.open({.path = t.path}, report));
    BOOST_TEST((report.reason == outbox::error::newer_schema));
    BOOST_TEST(report.detail.find("7") != std::string::npos);
    BOOST_TEST(std::filesystem::exists(report.moved_aside_to));
    BOOST_TEST(s.statistics()->depth == 0u);
    // The old file still holds its message.
    outbox::store old;
    BOOST_TEST((old.open_existing({.path = report.moved_aside_to}) == outbox::error::newer_schema));
}

BOOST_AUTO_TEST_CASE(status_of_a_missing_database_is_an_error_naming_it) {
    temp_db t;
    outbox::store s;
    BOOST_TEST((s.open_existing({.path = t.path}) == outbox::error::database_error));
    BOOST_TEST(s.last_error().find(t.path) != std::string::npos);
    BOOST_TEST(!std::filesystem::exists(t.path));
}

BOOST_AUTO_TEST_CASE(delivery_rules) {
    using outbox::action;
    BOOST_TEST((outbox::decide({}) == action::remove));
    BOOST_TEST((outbox::decide({.error = aws::status_error(503), .status = 503}) == action::retry));
    BOOST_TEST((outbox::decide({.error = aws::status_error(429), .status = 429}) == action::retry));
    BOOST_TEST((outbox::decide({.error = aws::status_error(400), .status = 400}) == action::dead_letter));
    BOOST_TEST((outbox::decide({.error = aws::status_error(403), .status = 403}) == action::dead_letter));
    BOOST_TEST((outbox::decide({.error = aws::status_error(413), .status = 413}) == action::dead_letter));
    BOOST_TEST((outbox::decide({.error = aws::error::invalid_topic}) == action::dead_letter));
    BOOST_TEST((outbox::decide({.error = edgeloop::http::error::connect_failed}) == action::retry));
    BOOST_TEST((outbox::decide({.error = boost::asio::error::operation_aborted}) == action::retry));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(outbox_queue)

namespace {

/// A queue on an io_context with a sender that answers from a script, keyed by payload: each send of a
/// payload takes the next status from its list (200 when the list is used up).
struct fixture {
    temp_db t;
    boost::asio::io_context io;
    std::map<std::string, std::vector<unsigned>> script;
    std::vector<std::string> sent;
    std::vector<std::string> ids;
    std::unique_ptr<outbox::queue> q;

    void make(outbox::options o) {
        o.path = t.path;
        o.backoff = {.base = 1ms, .max = 2ms, .max_attempts = edgeloop::retry::retry_forever};
        q = std::make_unique<outbox::queue>(io.get_executor(), o);
        outbox::open_report r;
        BOOST_REQUIRE(!q->open(r));
    }
    void add(const std::string& topic, const std::string& payload) {
        q->async_enqueue(msg(topic, payload), [](boost::system::error_code ec, std::string id) {
            BOOST_TEST(!ec);
            BOOST_TEST(!id.empty());
        });
    }
    void start() {
        q->start([this](const outbox::message& m, outbox::queue::done_handler done) {
            sent.push_back(m.publish.payload);
            ids.push_back(m.id);
            auto& list = script[m.publish.payload];
            unsigned status = 200;
            if (!list.empty()) {
                status = list.front();
                list.erase(list.begin());
            }
            outbox::outcome o;
            o.status = status;
            o.error = aws::status_error(status);
            done(o);
        });
    }
    void run() { BOOST_REQUIRE_MESSAGE(io.run_for(20s) > 0, "nothing ran"); }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(retryable_failures_keep_the_order_and_dead_letters_move_on, fixture) {
    make({});
    script["b"] = {503, 503, 429};
    script["c"] = {400};
    for (const char* p : {"a", "b", "c", "d"})
        add(p[0] == 'c' ? "other" : "t", p);
    std::vector<std::string> delivered, dead;
    int retries = 0;
    q->on_delivered = [&](const outbox::message& m, const outbox::outcome&) {
        delivered.push_back(m.publish.payload);
    };
    q->on_dead_letter = [&](const outbox::message& m, const outbox::outcome& o) {
        dead.push_back(m.publish.payload + ":" + std::to_string(o.status));
    };
    q->on_retry = [&](const outbox::message&, const outbox::outcome&, std::chrono::milliseconds) {
        ++retries;
    };
    q->on_idle = [&] { io.stop(); };
    start();
    run();
    BOOST_TEST(sent == (std::vector<std::string>{"a", "b", "b", "b", "b", "c", "d"}));
    BOOST_TEST(delivered == (std::vector<std::string>{"a", "b", "d"}));
    BOOST_TEST(dead == (std::vector<std::string>{"c:400"}));
    BOOST_TEST(retries == 3);
    BOOST_REQUIRE(ids.size() == 7u);
    BOOST_TEST(ids[1] == ids[4]); // the same id on every try
    outbox::store s;
    BOOST_REQUIRE(!s.open_existing({.path = t.path}));
    BOOST_TEST(s.statistics()->depth == 0u);
    auto dl = s.dead_letters();
    BOOST_REQUIRE(dl && dl->size() == 1u);
    BOOST_TEST((*dl)[0].status == 400u);
    BOOST_TEST((*dl)[0].msg.publish.topic == "other");
}

BOOST_FIXTURE_TEST_CASE(messages_enqueued_while_idle_are_sent, fixture) {
    make({});
    int idles = 0;
    q->on_idle = [&] {
        if (++idles == 1)
            add("t", "late");
        else
            io.stop();
    };
    start();
    run();
    BOOST_TEST(sent == (std::vector<std::string>{"late"}));
}

BOOST_FIXTURE_TEST_CASE(stop_keeps_the_message_in_flight, fixture) {
    make({});
    add("t", "x");
    add("t", "y");
    outbox::queue::done_handler pending;
    q->on_idle = [&] { BOOST_FAIL("must not drain"); };
    q->start([&](const outbox::message& m, outbox::queue::done_handler done) {
        sent.push_back(m.publish.payload);
        pending = std::move(done);
        q->stop();
        pending(outbox::outcome{}); // an outcome after stop is ignored
        boost::asio::post(io, [&] { io.stop(); });
    });
    run();
    q.reset();
    outbox::store s;
    BOOST_REQUIRE(!s.open_existing({.path = t.path}));
    BOOST_TEST(s.statistics()->depth == 2u);
    BOOST_TEST(sent == (std::vector<std::string>{"x"}));
}

BOOST_FIXTURE_TEST_CASE(quota_refusal_reaches_the_enqueue_caller, fixture) {
    make({.max_messages = 1});
    std::vector<boost::system::error_code> results;
    for (int i = 0; i < 2; ++i)
        q->async_enqueue(msg("t", "m"), [&](boost::system::error_code ec, std::string) {
            results.push_back(ec);
            if (results.size() == 2)
                io.stop();
        });
    run();
    BOOST_REQUIRE(results.size() == 2u);
    BOOST_TEST(!results[0]);
    BOOST_TEST((results[1] == outbox::error::full));
}

BOOST_AUTO_TEST_SUITE_END()
