// Request bodies (in memory, from a file, from a callback with chunked coding) and back-pressure on
// response bodies (on_body_paced).
#include <edgeloop/devserver/server.hpp>
#include <edgeloop/http/client.hpp>

#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
namespace net = boost::asio;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

struct devserver_fixture {
    net::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    http::client client{ioc.get_executor(), tls::context({.ca_file = server.ca_file()})};
    std::string dir = make_temp_dir("edgeloop-bodies");

    ~devserver_fixture() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    std::string write_file(const std::string& name, const std::string& content) const {
        const auto path = dir + "/" + name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
};

http::request post(std::string url) {
    http::request r;
    r.method = "POST";
    r.url = std::move(url);
    return r;
}

/// A body_source handing out `content` in pieces of at most `piece` bytes; counts its calls.
struct string_source {
    std::shared_ptr<std::string> content;
    std::size_t piece;
    std::shared_ptr<std::size_t> offset = std::make_shared<std::size_t>(0);
    std::shared_ptr<int> calls = std::make_shared<int>(0);

    std::size_t operator()(std::span<std::byte> buffer) const {
        ++*calls;
        const auto n = std::min({piece, buffer.size(), content->size() - *offset});
        std::memcpy(buffer.data(), content->data() + *offset, n);
        *offset += n;
        return n;
    }
};

/// True when this process has a descriptor open on `path`.
bool has_open_fd_to(const std::string& path) {
    const auto target = std::filesystem::canonical(path);
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
        std::error_code ec;
        if (std::filesystem::read_symlink(entry.path(), ec) == target)
            return true;
    }
    return false;
}

/// The devserver's /bytes/<n> pattern.
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>('a' + i % 26);
    return s;
}

struct paced_outcome {
    boost::system::error_code ec;
    http::transfer_info info;
    int done_calls = 0;
    std::string body;
    std::size_t pieces = 0;
    std::size_t outstanding = 0;     ///< bytes delivered and not yet resumed
    std::size_t max_outstanding = 0; ///< the most that ever was
    std::function<void()> resume;    ///< of the piece held now, empty when none
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(request_bodies, devserver_fixture)

BOOST_AUTO_TEST_CASE(file_body_is_streamed_and_received_byte_exact) {
    const auto content = test_bytes(200 * 1024);
    auto r = post(server.url("/echo"));
    r.body_file = write_file("200k.bin", content);
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body.size() == content.size());
    BOOST_TEST((out.body == content));
    BOOST_TEST(!has_open_fd_to(r.body_file), "the body file is closed after the transfer");
}

BOOST_AUTO_TEST_CASE(chunked_body_from_a_callback_is_received_byte_exact) {
    const auto content = std::make_shared<std::string>(test_bytes(300'000));
    string_source source{content, 7000};
    auto r = post(server.url("/echo"));
    r.body_source = source;
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body.size() == content->size());
    BOOST_TEST((out.body == *content));
    BOOST_TEST(*source.calls == 300'000 / 7000 + 2, "called until it returned 0, and not after");
}

BOOST_AUTO_TEST_CASE(body_source_returning_zero_at_once_sends_an_empty_chunked_body) {
    auto r = post(server.url("/echo"));
    r.body_source = [](std::span<std::byte>) -> std::size_t { return 0; };
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body.empty());
}

BOOST_AUTO_TEST_CASE(string_body_still_goes_out_with_content_length) {
    auto r = post(server.url("/echo"));
    r.body = "hello, echo";
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "hello, echo");
}

BOOST_AUTO_TEST_CASE(missing_file_fails_before_connecting_and_names_the_file) {
    auto r = post(server.url("/echo"));
    r.body_file = dir + "/no-such-file.bin";
    auto out = fetch(ioc, client, r);
    BOOST_TEST((out.ec == http::error::request_body_unreadable), out.ec.message());
    BOOST_TEST(out.info.detail.find("no-such-file.bin") != std::string::npos, out.info.detail);
    BOOST_TEST(http::describe(out.ec, out.info).find("no-such-file.bin") != std::string::npos);
    BOOST_TEST(server.connections_accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(directory_or_fifo_as_body_file_is_unreadable_without_blocking) {
    const auto fifo = dir + "/fifo";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const auto& path : {dir, fifo}) {
        auto r = post(server.url("/echo"));
        r.body_file = path;
        auto out = fetch(ioc, client, r, 5s);
        BOOST_TEST((out.ec == http::error::request_body_unreadable), out.ec.message());
        BOOST_TEST(out.info.detail.find("not a regular file") != std::string::npos, out.info.detail);
    }
    BOOST_TEST(server.connections_accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(more_than_one_body_is_rejected_before_connecting) {
    auto r = post(server.url("/echo"));
    r.body = "x";
    r.body_source = [](std::span<std::byte>) -> std::size_t { return 0; };
    auto out = fetch(ioc, client, r);
    BOOST_TEST((out.ec == http::error::invalid_request), out.ec.message());
    BOOST_TEST(server.connections_accepted() == 0u);
}

BOOST_AUTO_TEST_CASE(redirect_307_sends_the_file_again_from_its_start) {
    const auto content = test_bytes(100'000);
    auto r = post(server.url("/redirect?to=/echo&status=307"));
    r.body_file = write_file("100k.bin", content);
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.redirects == 1u);
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST((out.body == content));
}

BOOST_AUTO_TEST_CASE(redirect_308_with_a_body_source_fails_as_not_replayable) {
    const auto content = std::make_shared<std::string>(test_bytes(10'000));
    auto r = post(server.url("/redirect?to=/echo&status=308"));
    r.body_source = string_source{content, 4096};
    auto out = fetch(ioc, client, r);
    BOOST_TEST((out.ec == http::error::request_body_not_replayable), out.ec.message());
    BOOST_TEST(out.info.detail.find("308") != std::string::npos, out.info.detail);
}

BOOST_AUTO_TEST_CASE(redirect_303_drops_the_body_source_and_gets) {
    const auto content = std::make_shared<std::string>(test_bytes(10'000));
    auto r = post(server.url("/redirect?to=/200&status=303"));
    r.body_source = string_source{content, 4096};
    auto out = fetch(ioc, client, r);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.redirects == 1u);
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(request_bodies_nginx)

BOOST_AUTO_TEST_CASE(post_with_a_200k_file_body_to_nginx_succeeds) {
    nginx_server nginx;
    net::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};
    const auto dir = make_temp_dir("edgeloop-bodies");
    const auto path = dir + "/200k.bin";
    std::ofstream(path, std::ios::binary) << test_bytes(200 * 1024);
    auto r = post("https://localhost:" + std::to_string(nginx.https_port()) + "/topics/demo");
    r.body_file = path;
    auto out = fetch(ioc, client, r);
    std::filesystem::remove_all(dir);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(body_source_transfer_is_not_retried_on_a_fresh_connection) {
    // The server answers the first request of a connection (keep-alive) and closes the connection when the
    // second arrives: the stale-connection case, which a GET would retry.
    net::io_context ioc;
    fault_server server(ioc, {{fault::read_request(), fault::send(fault::ok_response()),
                               fault::read_request(), fault::close()}});
    http::client client(ioc.get_executor());
    const auto url = server.url();
    auto first = fetch(ioc, client, get(url));
    BOOST_TEST(!first.ec, http::describe(first.ec, first.info));
    BOOST_REQUIRE(client.idle_connections() == 1u);

    const auto content = std::make_shared<std::string>(test_bytes(1000));
    auto r = post(url);
    r.body_source = string_source{content, 1000};
    auto second = fetch(ioc, client, r);
    BOOST_TEST(second.ec, "the closed connection fails the transfer");
    BOOST_TEST(second.info.reused_connection);
    BOOST_TEST(server.accepted() == 1u, "no fresh connection was opened to send the body again");
    server.close();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(back_pressure, devserver_fixture)

/// Starts a paced download of `url`; the consumer records each piece and parks its resume in `out`.
void start_paced(http::client& client, const std::string& url, paced_outcome& out,
                 net::cancellation_slot slot = {}) {
    http::handlers h;
    h.on_body_paced = [&out](std::span<const std::byte> bytes, std::function<void()> resume) {
        BOOST_TEST(!out.resume, "a piece arrived before the previous one was resumed");
        out.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        ++out.pieces;
        out.outstanding += bytes.size();
        out.max_outstanding = std::max(out.max_outstanding, out.outstanding);
        out.resume = [&out, resume = std::move(resume), n = bytes.size()] {
            out.outstanding -= n;
            resume();
        };
    };
    client.async_fetch(
        get(url), std::move(h),
        net::bind_cancellation_slot(slot, [&out](boost::system::error_code ec, http::transfer_info info) {
            out.ec = ec;
            out.info = std::move(info);
            ++out.done_calls;
        }));
}

/// Calls the parked resume every `period` until the transfer completes.
void resume_every(net::io_context& ioc, paced_outcome& out, std::chrono::milliseconds period,
                  std::chrono::seconds limit) {
    net::steady_timer timer(ioc);
    std::function<void()> tick = [&] {
        timer.expires_after(period);
        timer.async_wait([&](boost::system::error_code ec) {
            if (ec || out.done_calls > 0)
                return;
            if (auto resume = std::exchange(out.resume, nullptr))
                resume();
            tick();
        });
    };
    tick();
    BOOST_REQUIRE(run_until(
        ioc, [&] { return out.done_calls > 0; }, limit));
    timer.cancel();
    ioc.run_for(50ms);
}

BOOST_AUTO_TEST_CASE(slow_consumer_gets_every_byte_with_at_most_one_piece_outstanding) {
    paced_outcome out;
    const auto start = std::chrono::steady_clock::now();
    start_paced(client, server.url("/bytes/2000000"), out);
    resume_every(ioc, out, 50ms, 60s);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.done_calls == 1);
    BOOST_TEST(out.body.size() == 2'000'000u);
    BOOST_TEST((out.body == pattern(2'000'000)));
    BOOST_TEST(out.max_outstanding <= client.options().limits.body_chunk_bytes);
    // Each piece waited for its tick: the consumer, not the network, set the pace.
    BOOST_TEST((std::chrono::steady_clock::now() - start >= (out.pieces - 1) * 50ms));
}

BOOST_AUTO_TEST_CASE(resume_during_the_callback_and_twice_is_harmless) {
    paced_outcome out;
    http::handlers h;
    h.on_body_paced = [&out](std::span<const std::byte> bytes, std::function<void()> resume) {
        out.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        resume();
        resume();
    };
    client.async_fetch(get(server.url("/bytes/300000")), std::move(h),
                       [&out](boost::system::error_code ec, http::transfer_info info) {
                           out.ec = ec;
                           out.info = std::move(info);
                           ++out.done_calls;
                       });
    BOOST_REQUIRE(run_until(
        ioc, [&] { return out.done_calls > 0; }, 20s));
    ioc.run_for(50ms);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.done_calls == 1);
    BOOST_TEST((out.body == pattern(300'000)));
}

BOOST_AUTO_TEST_CASE(idle_deadline_does_not_run_while_paused) {
    http::client quick_idle{
        ioc.get_executor(), tls::context({.ca_file = server.ca_file()}), {.timeouts = {.idle = 100ms}}};
    paced_outcome out;
    start_paced(quick_idle, server.url("/bytes/40000"), out);
    resume_every(ioc, out, 300ms, 20s);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST((out.body == pattern(40'000)));
}

BOOST_AUTO_TEST_CASE(total_deadline_runs_while_paused) {
    http::client quick_total{
        ioc.get_executor(), tls::context({.ca_file = server.ca_file()}), {.timeouts = {.total = 300ms}}};
    paced_outcome out;
    start_paced(quick_total, server.url("/bytes/100000"), out);
    BOOST_REQUIRE(run_until(
        ioc, [&] { return out.done_calls > 0; }, 10s));
    BOOST_TEST((out.ec == http::error::total_timeout), out.ec.message());
    BOOST_TEST(out.pieces == 1u);
    // The consumer may still resume late: nothing happens, and its bytes were valid until then.
    if (out.resume)
        std::exchange(out.resume, nullptr)();
    ioc.run_for(50ms);
    BOOST_TEST(out.done_calls == 1);
}

BOOST_AUTO_TEST_CASE(cancellation_while_paused_completes_with_operation_aborted) {
    net::cancellation_signal signal;
    paced_outcome out;
    start_paced(client, server.url("/bytes/2000000"), out, signal.slot());
    BOOST_REQUIRE(run_until(
        ioc, [&] { return out.pieces > 0; }, 10s));
    ioc.run_for(100ms); // paused: nothing more arrives
    BOOST_TEST(out.pieces == 1u);
    BOOST_TEST(out.done_calls == 0);
    signal.emit(net::cancellation_type::terminal);
    BOOST_REQUIRE(run_until(
        ioc, [&] { return out.done_calls > 0; }, 5s));
    BOOST_TEST((out.ec == net::error::operation_aborted), out.ec.message());
    if (out.resume)
        std::exchange(out.resume, nullptr)();
    ioc.run_for(50ms);
    BOOST_TEST(out.done_calls == 1);
    BOOST_TEST(out.pieces == 1u);
}

BOOST_AUTO_TEST_CASE(on_body_and_on_body_paced_together_are_rejected) {
    http::handlers h;
    h.on_body = [](std::span<const std::byte>) {};
    h.on_body_paced = [](std::span<const std::byte>, std::function<void()> resume) { resume(); };
    boost::system::error_code result;
    bool done = false;
    client.async_fetch(get(server.url("/bytes/10")), std::move(h),
                       [&](boost::system::error_code ec, http::transfer_info) {
                           result = ec;
                           done = true;
                       });
    BOOST_REQUIRE(run_until(
        ioc, [&] { return done; }, 5s));
    BOOST_TEST((result == http::error::invalid_request), result.message());
    BOOST_TEST(server.connections_accepted() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
