// Bandwidth limits (http::rate_limit, client::set_rate_limit, multi_fetch --limit-rate) against a real
// nginx. No timing is asserted: the rates are measured in tests/bench (scenario l). What is asserted can
// fail deterministically: at 1 KiB/s a 1 MiB body takes 17 minutes, so a transfer that is still running
// while another completes (and a timer fires) on the same loop is throttled, not slow by accident; raising
// the limit at run time lets it finish, every byte intact.
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/rate_limit.hpp>

#include <support/app_run.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/test/unit_test.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t one_mib = 1024 * 1024;

struct rate_fixture {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};
    std::string big = test_bytes(one_mib);

    rate_fixture() {
        const std::string path = nginx.docroot() + "/1m.bin";
        std::ofstream(path, std::ios::binary) << big;
        std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                               std::filesystem::perms::group_read |
                                               std::filesystem::perms::others_read);
    }
    std::string https(const std::string& path) const {
        return "https://localhost:" + std::to_string(nginx.https_port()) + path;
    }
    std::string plain(const std::string& path) const {
        return "http://localhost:" + std::to_string(nginx.http_port()) + path;
    }
    http::request get(std::string url, http::rate_limit limit = {}) const {
        http::request r;
        r.url = std::move(url);
        r.rate_limit = std::move(limit);
        return r;
    }
    /// Starts a transfer recording into `out`.
    void start(http::request req, fetch_outcome& out) {
        client.async_fetch(std::move(req), detail::recording_handlers(out),
                           detail::recording_completion(out));
    }
    /// Runs the loop until `done()` or `limit` passes (which fails the test).
    template <typename Pred>
    void run_until(Pred done, std::chrono::seconds limit = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        ioc.restart();
        while (!done() && std::chrono::steady_clock::now() < deadline)
            ioc.run_one_until(deadline);
        BOOST_REQUIRE_MESSAGE(done(), "not done within " << limit.count() << " s");
    }
    /// Runs the loop for `d` (a timer on the loop ends the wait).
    void run_for(std::chrono::milliseconds d) {
        bool fired = false;
        boost::asio::steady_timer t(ioc, d);
        t.async_wait([&](const boost::system::error_code&) { fired = true; });
        run_until([&] { return fired; });
    }
};

using run_result = app_result;

run_result run_multi_fetch(std::vector<std::string> args) {
    return run_app(MULTI_FETCH_BIN, std::move(args), "multi_fetch_rate");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(rate_limit, rate_fixture)

BOOST_AUTO_TEST_CASE(a_throttled_transfer_leaves_the_loop_free_and_finishes_when_its_limit_is_raised) {
    http::rate_limit slow(1024); // 1 KiB/s: 1 MiB would take 17 minutes
    fetch_outcome limited, free;
    start(get(https("/1m.bin"), slow), limited);
    start(get(https("/1m.bin")), free);
    // A timer ticking on the same loop all along.
    int ticks = 0;
    boost::asio::steady_timer ticker(ioc);
    std::function<void()> tick = [&] {
        ticker.expires_after(10ms);
        ticker.async_wait([&](const boost::system::error_code& ec) {
            if (ec)
                return;
            ++ticks;
            tick();
        });
    };
    tick();
    run_until([&] { return free.done; });
    BOOST_TEST(!free.ec, http::describe(free.ec, free.info));
    BOOST_TEST(free.body == big);
    BOOST_TEST(!limited.done, "the limited transfer is still running when the unlimited one completes");
    const int ticks_then = ticks;
    run_for(300ms);
    BOOST_TEST(ticks > ticks_then, "the timer went on ticking while the transfer was throttled");
    BOOST_TEST_REQUIRE(!limited.done, "still throttled 300 ms later");
    BOOST_TEST(limited.body.size() < 256 * 1024);
    slow.set(0); // lifted at run time: the waiting transfer goes on at once
    run_until([&] { return limited.done; });
    ticker.cancel();
    BOOST_TEST(!limited.ec, http::describe(limited.ec, limited.info));
    BOOST_TEST(limited.info.status == 200u);
    BOOST_TEST(limited.body.size() == big.size());
    BOOST_TEST(limited.body == big, "every byte delivered, in order");
}

BOOST_AUTO_TEST_CASE(a_limited_transfer_delivers_every_byte_intact_over_http_and_https) {
    for (const auto& url : {https("/1m.bin"), plain("/1m.bin")}) {
        BOOST_TEST_CONTEXT(url) {
            // 8 MiB/s: reads capped at a fraction of the buffer, many waits, about 0.1 s.
            auto out = fetch(ioc, client, get(url, http::rate_limit(8 * one_mib)));
            BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
            BOOST_TEST(out.info.body_bytes == big.size());
            BOOST_TEST(out.body == big);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_client_wide_limit_throttles_every_transfer_and_can_be_lifted) {
    client.set_rate_limit(1024);
    fetch_outcome a, b;
    start(get(https("/100k.bin")), a);
    start(get(plain("/100k.bin")), b);
    run_for(300ms);
    BOOST_TEST_REQUIRE(!a.done, "100 KiB at 1 KiB/s for the two together");
    BOOST_TEST_REQUIRE(!b.done);
    client.set_rate_limit(0);
    run_until([&] { return a.done && b.done; });
    BOOST_TEST(!a.ec, http::describe(a.ec, a.info));
    BOOST_TEST(!b.ec, http::describe(b.ec, b.info));
    BOOST_TEST(a.body == test_bytes(102400));
    BOOST_TEST(b.body == test_bytes(102400));
}

BOOST_AUTO_TEST_CASE(a_transfer_under_two_limits_obeys_the_stricter) {
    http::rate_limit own(0); // unlimited for now
    client.set_rate_limit(1024);
    fetch_outcome out;
    start(get(https("/100k.bin"), own), out);
    run_for(300ms);
    BOOST_TEST_REQUIRE(!out.done, "the client's limit holds although the transfer's own is off");
    own.set(1024);
    client.set_rate_limit(0);
    run_for(300ms);
    BOOST_TEST_REQUIRE(!out.done, "the transfer's own limit holds although the client's is off");
    own.set(0);
    run_until([&] { return out.done; });
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == test_bytes(102400));
}

BOOST_AUTO_TEST_CASE(request_bodies_are_limited_too_in_each_framing) {
    // PUT to nginx's DAV location: from memory (Content-Length), from a file, and from a body_source
    // (chunked). At 1 KiB/s 1 MiB takes 17 minutes; without the limit each PUT takes milliseconds.
    const std::string file = make_temp_dir("rate_upload") + "/body.bin";
    std::ofstream(file, std::ios::binary) << big;
    for (const std::string framing : {"memory", "file", "source"}) {
        BOOST_TEST_CONTEXT(framing) {
            http::rate_limit slow(1024);
            auto req = get(https("/uploads/" + framing + ".bin"), slow);
            req.method = "PUT";
            std::size_t offered = 0;
            if (framing == "memory")
                req.body = big;
            else if (framing == "file")
                req.body_file = file;
            else
                req.body_source = [&](std::span<std::byte> room) {
                    const auto n = std::min(room.size(), big.size() - offered);
                    std::memcpy(room.data(), big.data() + offered, n);
                    offered += n;
                    return n;
                };
            fetch_outcome out;
            start(std::move(req), out);
            run_for(300ms);
            BOOST_TEST_REQUIRE(!out.done, "the upload is throttled: " << out.ec.message());
            if (framing == "source")
                BOOST_TEST(offered < 64 * 1024u, "the source is asked only for what the budget allows");
            slow.set(0);
            run_until([&] { return out.done; });
            BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
            BOOST_TEST(out.info.status == 201u);
            BOOST_TEST(read_file(nginx.docroot() + "/uploads/" + framing + ".bin") == big,
                       "every byte stored, in order");
        }
    }
    // multi_fetch -T: --limit-rate holds for the upload (--max-time ends it).
    auto r = run_multi_fetch({"--now", "-q", "--cacert", pki::path("ca.crt"), "--limit-rate", "1k",
                              "--max-time", "1", "-T", file, https("/uploads/app.bin")});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(r.output.find("total time limit") != std::string::npos, r.output);
    r = run_multi_fetch(
        {"--now", "-q", "--cacert", pki::path("ca.crt"), "-T", file, https("/uploads/app2.bin")});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(read_file(nginx.docroot() + "/uploads/app2.bin") == big);
}

BOOST_AUTO_TEST_CASE(waiting_for_the_budget_is_not_an_idle_server) {
    // 10 B/s: one byte every 100 ms, longer than the idle deadline of 50 ms.
    auto req = get(https("/1k.bin"), http::rate_limit(10));
    req.timeouts = client.options().timeouts;
    req.timeouts->idle = 50ms;
    fetch_outcome out;
    start(std::move(req), out);
    run_for(600ms);
    BOOST_TEST(!out.done, "neither failed with idle_timeout nor finished: " << out.ec.message());
    client.cancel_all();
    run_until([&] { return out.done; });
    BOOST_TEST(out.ec == boost::asio::error::operation_aborted, out.ec.message());
    BOOST_TEST(out.done_calls == 1);
    BOOST_TEST(client.active() == 0u, "the cancelled transfer is released while it waited for its budget");
}

BOOST_AUTO_TEST_CASE(multi_fetch_limit_rate_throttles_each_transfer) {
    // 1 KiB/s on 100 KiB: --max-time 1 ends it (exit 1); without the limit it completes in milliseconds.
    auto r = run_multi_fetch({"--now", "-q", "--cacert", pki::path("ca.crt"), "--limit-rate", "1k",
                              "--max-time", "1", https("/100k.bin")});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(r.output.find("total time limit") != std::string::npos, r.output);
    r = run_multi_fetch({"--now", "-q", "--cacert", pki::path("ca.crt"), "--limit-rate-total", "1K",
                         "--max-time", "1", https("/100k.bin")});
    BOOST_TEST(r.status == 1, r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_limit_rate_delivers_the_file_whole) {
    const std::string dir = make_temp_dir("multi_fetch_rate_out");
    for (const std::string rate : {"8M", "8388608", "8192k", "0", "+8m"}) {
        BOOST_TEST_CONTEXT(rate) {
            const std::string file = dir + "/out.bin";
            std::filesystem::remove(file);
            auto r = run_multi_fetch({"--now", "-q", "--cacert", pki::path("ca.crt"), "--limit-rate", rate,
                                      "-o", file, https("/1m.bin")});
            BOOST_TEST(r.status == 0, r.output);
            BOOST_TEST(read_file(file) == big);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_url_file_group_carries_its_own_limit_rate) {
    // 100 KiB at 1 KiB/s: --max-time 1 ends it (exit 1); unlimited, it completes in milliseconds.
    const std::string dir = make_temp_dir("multi_fetch_rate_k");
    const auto run_with = [&](const std::string& config, std::vector<std::string> extra = {}) {
        std::ofstream(dir + "/urls.txt", std::ios::trunc) << config;
        std::vector<std::string> args = {"--now",      "-q", "--cacert", pki::path("ca.crt"),
                                         "--max-time", "1",  "-K",       dir + "/urls.txt"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_multi_fetch(args);
    };
    const std::string url = "url = \"" + https("/100k.bin") + "\"\n";
    auto r = run_with("limit-rate = 1k\n" + url);
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(r.output.find("total time limit") != std::string::npos, r.output);
    r = run_with("limit-rate = 1k\nnext\n" + url); // a new group has none
    BOOST_TEST(r.status == 0, r.output);
    r = run_with("--limit-rate 0\n" + url, {"--limit-rate", "1k"}); // the group's replaces the command line's
    BOOST_TEST(r.status == 0, r.output);
    r = run_with(url, {"--limit-rate", "1k"}); // and without it the command line's holds
    BOOST_TEST(r.status == 1, r.output);
    r = run_with("\nlimit-rate: 1.5k\n" + url);
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find(dir + "/urls.txt:2: limit-rate: expected bytes per second") != std::string::npos,
               r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_refuses_a_malformed_rate_with_exit_2) {
    for (const std::string rate : {"k", "10x", "1.5k", "10kb", "-1", "0x10", "99999999999999G", "5k5"}) {
        BOOST_TEST_CONTEXT("'" << rate << "'") {
            auto r = run_multi_fetch({"--now", "--limit-rate=" + rate, https("/1k.bin")});
            BOOST_TEST(r.status == 2, r.output);
            BOOST_TEST(r.output.find("--limit-rate: expected bytes per second") != std::string::npos,
                       r.output);
            BOOST_TEST(r.output.find("got '" + rate + "'") != std::string::npos, r.output);
        }
    }
    auto r = run_multi_fetch({"--now", "--limit-rate=", https("/1k.bin")});
    BOOST_TEST(r.status == 2, r.output); // program_options refuses an empty value itself
    r = run_multi_fetch({"--now", "--limit-rate-total", "1q", https("/1k.bin")});
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("--limit-rate-total: expected") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
