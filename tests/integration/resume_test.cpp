// request::range, request::retry and resume (retry_op): a body cut by the fault server at several
// offsets resumes with Range and If-Range and is delivered byte-identical, nothing twice; a changed
// file or a server ignoring Range restarts from zero; 206/416 answers checked; retries counted,
// non-transient errors not retried, cancellation during the backoff; multi_fetch -C - and --retry
// against nginx (bytes.log counts the body bytes nginx sent).
#include <edgeloop/http/client.hpp>

#include <support/app_run.hpp>
#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

std::string sha256_hex(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < n; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 0x0f];
    }
    return out;
}

std::string head_200(std::size_t length, const std::string& etag) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(length) + "\r\nETag: " + etag + "\r\n\r\n";
}

std::string head_206(std::size_t from, std::size_t length, const std::string& etag) {
    return "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " + std::to_string(from) + "-" +
           std::to_string(length - 1) + "/" + std::to_string(length) +
           "\r\nContent-Length: " + std::to_string(length - from) + "\r\nETag: " + etag + "\r\n\r\n";
}

/// A connection that answers with `head` and body bytes [from, to) of `body`, then cuts the connection
/// (an abortive close when `rst`, else a FIN).
fault_step cut(const std::string& head, const std::string& body, std::size_t from, std::size_t to, bool rst) {
    return {fault::read_request(), fault::send(head + body.substr(from, to - from)),
            rst ? fault::reset() : fault::close()};
}

bool has_line(const std::string& head, const std::string& line) {
    return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

bool asks_range(const std::string& head) {
    return head.find("\r\nRange:") != std::string::npos;
}

struct fault_fixture {
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor()};
    const std::string file = test_bytes(30000);
    std::vector<std::uint64_t> rewinds;

    http::request retrying(const std::string& url, std::uint32_t count = 5) const {
        http::request r;
        r.url = url;
        r.retry.count = count;
        r.retry.delay = 1ms;
        return r;
    }
    fetch_outcome run(http::request req) {
        fetch_outcome out;
        auto h = detail::recording_handlers(out);
        h.on_body_rewind = [this, &out](std::uint64_t offset) {
            rewinds.push_back(offset);
            out.body.resize(offset);
        };
        client.async_fetch(std::move(req), std::move(h), detail::recording_completion(out));
        detail::wait_for_completion(ioc, out, 20s);
        return out;
    }
};

struct nginx_fixture {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};
    std::string file = read_file(nginx.docroot() + "/100k.bin");

    std::string https(const std::string& path) const {
        return "https://localhost:" + std::to_string(nginx.https_port()) + path;
    }
};

using run_result = app_result;

run_result run_multi_fetch(std::vector<std::string> args) {
    return run_app(MULTI_FETCH_BIN, std::move(args), "multi_fetch_resume");
}

void write_bytes(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

} // namespace

BOOST_AUTO_TEST_SUITE(transfer_resume)

BOOST_FIXTURE_TEST_CASE(a_body_cut_at_three_offsets_resumes_byte_identical_and_nothing_twice, fault_fixture) {
    const std::string etag = "\"v1\"";
    const std::size_t cuts[] = {1000, 9000, 20000};
    fault_server server(ioc, {cut(head_200(file.size(), etag), file, 0, cuts[0], false),
                              cut(head_206(cuts[0], file.size(), etag), file, cuts[0], cuts[1], true),
                              cut(head_206(cuts[1], file.size(), etag), file, cuts[1], cuts[2], false),
                              {fault::read_request(),
                               fault::send(head_206(cuts[2], file.size(), etag) + file.substr(cuts[2]))}});
    auto req = retrying(server.url("/fw.bin"));
    req.expected_sha256 = sha256_hex(file);
    auto out = run(std::move(req));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == file);
    BOOST_TEST(out.info.status == 206u);
    BOOST_TEST(out.info.attempts == 4u);
    BOOST_TEST(out.info.resumed_from == cuts[2]);
    BOOST_TEST(out.info.body_bytes == file.size(), "every byte delivered once");
    BOOST_TEST(rewinds.empty());
    const auto heads = server.request_heads();
    BOOST_REQUIRE(heads.size() == 4u);
    BOOST_TEST(!asks_range(heads[0]));
    // Each retry asks exactly for what the server had not sent yet: nothing is sent twice.
    for (std::size_t i = 0; i < 3; ++i) {
        BOOST_TEST(has_line(heads[i + 1], "Range: bytes=" + std::to_string(cuts[i]) + "-"), heads[i + 1]);
        BOOST_TEST(has_line(heads[i + 1], "If-Range: " + etag), heads[i + 1]);
    }
}

BOOST_FIXTURE_TEST_CASE(a_file_changed_between_attempts_restarts_from_zero, fault_fixture) {
    const std::string changed = test_bytes(25000).replace(0, 5, "NEWER");
    fault_server server(ioc,
                        {cut(head_200(file.size(), "\"v1\""), file, 0, 5000, true),
                         // If-Range "v1" no longer matches: the whole new version (RFC 9110 13.1.5)
                         {fault::read_request(), fault::send(head_200(changed.size(), "\"v2\"") + changed)}});
    auto req = retrying(server.url("/fw.bin"));
    req.expected_sha256 = sha256_hex(changed);
    auto out = run(std::move(req));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == changed, "the new file, whole, not spliced");
    BOOST_TEST(rewinds == std::vector<std::uint64_t>{0});
    BOOST_TEST(out.info.resumed_from == 0u);
    BOOST_TEST(out.info.attempts == 2u);
    const auto heads = server.request_heads();
    BOOST_REQUIRE(heads.size() == 2u);
    BOOST_TEST(has_line(heads[1], "If-Range: \"v1\""), heads[1]);
}

BOOST_FIXTURE_TEST_CASE(without_a_validator_a_retry_restarts_from_zero, fault_fixture) {
    const std::string plain =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(file.size()) + "\r\n\r\n";
    fault_server server(
        ioc, {cut(plain, file, 0, 4000, false), {fault::read_request(), fault::send(plain + file)}});
    auto out = run(retrying(server.url("/fw.bin")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == file);
    BOOST_TEST(rewinds == std::vector<std::uint64_t>{0});
    const auto heads = server.request_heads();
    BOOST_REQUIRE(heads.size() == 2u);
    BOOST_TEST(!asks_range(heads[1]), "no splice without If-Range");
}

BOOST_FIXTURE_TEST_CASE(a_server_that_ignores_range_restarts_cleanly, fault_fixture) {
    fault_server server(ioc, {cut(head_200(file.size(), "\"v1\""), file, 0, 7000, false),
                              {fault::read_request(), fault::send(head_200(file.size(), "\"v1\"") + file)}});
    auto req = retrying(server.url("/fw.bin"));
    req.expected_sha256 = sha256_hex(file);
    auto out = run(std::move(req));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == file);
    BOOST_TEST(rewinds == std::vector<std::uint64_t>{0});
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.info.resumed_from == 0u);
    BOOST_TEST(has_line(server.request_heads().at(1), "Range: bytes=7000-"));
}

BOOST_FIXTURE_TEST_CASE(a_206_not_starting_where_asked_is_an_error, fault_fixture) {
    fault_server server(ioc, {cut(head_200(file.size(), "\"v1\""), file, 0, 3000, false),
                              {fault::read_request(),
                               fault::send(head_206(2000, file.size(), "\"v1\"") + file.substr(2000))}});
    auto out = run(retrying(server.url("/fw.bin")));
    BOOST_TEST(out.ec == make_error_code(http::error::range_mismatch), out.ec.message());
    BOOST_TEST(out.info.detail.find("asked bytes=3000-") != std::string::npos, out.info.detail);
    BOOST_TEST(out.info.detail.find("bytes 2000-29999/30000") != std::string::npos, out.info.detail);
    BOOST_TEST(out.body == file.substr(0, 3000), "nothing of the wrong range delivered");
    BOOST_TEST(server.accepted() == 2u, "a range error is not retried");
}

BOOST_FIXTURE_TEST_CASE(the_retry_count_is_respected, fault_fixture) {
    fault_server server(ioc, {{fault::read_request(), fault::reset()}});
    auto out = run(retrying(server.url("/"), 2));
    BOOST_TEST((out.ec == make_error_code(http::error::connection_reset) ||
                out.ec == make_error_code(http::error::no_response)),
               out.ec.message());
    BOOST_TEST(out.info.attempts == 3u);
    BOOST_TEST(server.accepted() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_non_transient_error_is_retried_only_with_all_errors, fault_fixture) {
    fault_server server(ioc, {{fault::read_request(), fault::send("garbage\r\n\r\n"), fault::close()}});
    auto out = run(retrying(server.url("/"), 2));
    BOOST_TEST(out.ec == make_error_code(http::error::malformed_response), out.ec.message());
    BOOST_TEST(out.info.attempts == 1u);
    BOOST_TEST(server.accepted() == 1u);
    auto all = retrying(server.url("/"), 2);
    all.retry.all_errors = true;
    out = run(std::move(all));
    BOOST_TEST(out.ec == make_error_code(http::error::malformed_response), out.ec.message());
    BOOST_TEST(out.info.attempts == 3u);
    BOOST_TEST(server.accepted() == 4u);
}

BOOST_FIXTURE_TEST_CASE(a_post_is_not_sent_twice, fault_fixture) {
    fault_server server(ioc, {{fault::read_request(), fault::reset()}});
    auto req = retrying(server.url("/"), 2);
    req.method = "POST";
    req.body = "once";
    auto out = run(std::move(req));
    BOOST_TEST(out.ec);
    BOOST_TEST(out.info.attempts == 1u);
    BOOST_TEST(server.accepted() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_503_is_retried_and_the_last_answer_delivered, fault_fixture) {
    const std::string busy = "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy";
    fault_server server(ioc, {{fault::read_request(), fault::send(busy), fault::close()},
                              fault::answer(fault::ok_response())});
    auto out = run(retrying(server.url("/"), 1));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "ok");
    BOOST_TEST(out.info.attempts == 2u);

    fault_server always(ioc, {{fault::read_request(), fault::send(busy), fault::close()}});
    out = run(retrying(always.url("/"), 1));
    BOOST_TEST(!out.ec, "a status is not a transport error: the last one is the result");
    BOOST_TEST(out.info.status == 503u);
    BOOST_TEST(out.body == "busy");
    BOOST_TEST(out.info.attempts == 2u);
}

BOOST_FIXTURE_TEST_CASE(cancel_during_the_backoff_ends_with_operation_aborted, fault_fixture) {
    fault_server server(ioc, {{fault::read_request(), fault::reset()}});
    for (const bool via_cancel_all : {false, true}) {
        auto req = retrying(server.url("/"), 3);
        req.retry.delay = std::chrono::hours(1);
        fetch_outcome out;
        boost::asio::cancellation_signal signal;
        const auto accepted_before = server.accepted();
        client.async_fetch(
            std::move(req), detail::recording_handlers(out),
            boost::asio::bind_cancellation_slot(signal.slot(), detail::recording_completion(out)));
        // Until the first attempt has failed: nothing is connected, the transfer waits for its retry.
        const auto deadline = std::chrono::steady_clock::now() + 20s;
        ioc.restart();
        while ((server.accepted() == accepted_before || client.active() > 0) && !out.done &&
               std::chrono::steady_clock::now() < deadline)
            ioc.run_one_for(10ms);
        ioc.poll();
        BOOST_REQUIRE(!out.done);
        if (via_cancel_all)
            client.cancel_all();
        else
            signal.emit(boost::asio::cancellation_type::terminal);
        BOOST_TEST(!out.done, "never completes inside the cancelling call");
        detail::wait_for_completion(ioc, out, 10s); // not the hour of the backoff
        BOOST_TEST(out.ec == boost::asio::error::operation_aborted, out.ec.message());
        BOOST_TEST(out.info.attempts == 1u);
        BOOST_TEST(out.done_calls == 1);
    }
}

BOOST_FIXTURE_TEST_CASE(nginx_answers_a_range_with_206_from_where_it_was_asked, nginx_fixture) {
    http::request req;
    req.url = https("/100k.bin");
    req.range = http::byte_range{.first = 40000, .last = std::nullopt};
    auto out = fetch(ioc, client, std::move(req));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 206u);
    BOOST_TEST(out.info.resumed_from == 40000u);
    BOOST_TEST(out.body == file.substr(40000));
}

BOOST_FIXTURE_TEST_CASE(the_digest_of_a_resume_covers_the_bytes_already_on_disk, nginx_fixture) {
    const std::string dir = make_temp_dir("resume_prefix");
    write_bytes(dir + "/good.part", file.substr(0, 40000));
    std::string bad_prefix = file.substr(0, 40000);
    bad_prefix[123] ^= 1;
    write_bytes(dir + "/bad.part", bad_prefix);
    for (const auto& [part, ok] :
         {std::pair{std::string("good.part"), true}, {std::string("bad.part"), false}}) {
        http::request req;
        req.url = https("/100k.bin");
        req.range = http::byte_range{.first = 40000, .last = std::nullopt};
        req.resume_file = dir + "/" + part;
        req.expected_sha256 = sha256_hex(file);
        auto out = fetch(ioc, client, std::move(req));
        BOOST_TEST(out.body == file.substr(40000));
        if (ok)
            BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
        else
            BOOST_TEST(out.ec == make_error_code(http::error::digest_mismatch), out.ec.message());
    }
    http::request short_file;
    short_file.url = https("/100k.bin");
    short_file.range = http::byte_range{.first = 50000, .last = std::nullopt};
    short_file.resume_file = dir + "/good.part";
    short_file.expected_sha256 = sha256_hex(file);
    auto out = fetch(ioc, client, std::move(short_file));
    BOOST_TEST(out.ec == make_error_code(http::error::resume_file_unreadable), out.ec.message());
    BOOST_TEST(out.info.detail.find("fewer than the 50000") != std::string::npos, out.info.detail);
    BOOST_TEST(out.info.connects == 0u);
}

BOOST_FIXTURE_TEST_CASE(a_416_for_a_complete_file_is_done_any_other_416_an_error, nginx_fixture) {
    const std::string dir = make_temp_dir("resume_416");
    write_bytes(dir + "/whole.part", file);
    http::request req;
    req.url = https("/100k.bin");
    req.range = http::byte_range{.first = file.size(), .last = std::nullopt};
    req.resume_file = dir + "/whole.part";
    req.expected_sha256 = sha256_hex(file);
    auto out = fetch(ioc, client, req);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 416u);
    BOOST_TEST(out.info.already_complete);
    BOOST_TEST(out.body.empty(), "the 416 page is not body");

    req.range->first = file.size() + 10;
    req.resume_file.clear();
    req.expected_sha256.clear();
    out = fetch(ioc, client, req);
    BOOST_TEST(out.ec == make_error_code(http::error::range_not_satisfiable), out.ec.message());
    BOOST_TEST(out.info.detail.find("the resource has " + std::to_string(file.size()) + " bytes") !=
                   std::string::npos,
               out.info.detail);
}

BOOST_FIXTURE_TEST_CASE(multi_fetch_continue_at_fetches_only_the_rest_of_a_part_file, nginx_fixture) {
    const std::string dir = make_temp_dir("resume_out");
    write_bytes(dir + "/100k.bin.part", file.substr(0, 40000)); // an interrupted run's
    auto r = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "--output-dir", dir, "-C", "-",
                              "--sha256", sha256_hex(file), https("/100k.bin")});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(files_in(dir) == std::vector<std::string>{"100k.bin"}, r.output);
    BOOST_TEST(read_file(dir + "/100k.bin") == file);
    const auto rest = std::to_string(file.size() - 40000);
    BOOST_TEST(r.output.find("download complete: HTTP 206, " + rest + " bytes, resumed from byte 40000 -> " +
                             dir + "/100k.bin") != std::string::npos,
               r.output);
    // nginx sent the bytes that were missing, nothing of what was on disk.
    const auto log = nginx.bytes_log();
    BOOST_TEST(log.find("206 " + rest + " \"bytes=40000-\" GET /100k.bin") != std::string::npos, log);
    BOOST_TEST(log.find("200 ") == std::string::npos, log);
}

BOOST_FIXTURE_TEST_CASE(multi_fetch_continue_at_with_a_bad_digest_leaves_no_file, nginx_fixture) {
    const std::string dir = make_temp_dir("resume_bad");
    std::string prefix = file.substr(0, 40000);
    prefix[10] ^= 1; // the interrupted run wrote a wrong byte
    write_bytes(dir + "/100k.bin.part", prefix);
    auto r = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "--output-dir", dir, "-C", "-",
                              "--sha256", sha256_hex(file), https("/100k.bin")});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(files_in(dir).empty(), r.output);
    BOOST_TEST(r.output.find("the body's SHA-256 is not the one expected") != std::string::npos, r.output);
}

BOOST_FIXTURE_TEST_CASE(multi_fetch_continue_at_on_a_whole_part_file_just_renames_it, nginx_fixture) {
    const std::string dir = make_temp_dir("resume_whole");
    write_bytes(dir + "/100k.bin.part", file);
    auto r = run_multi_fetch({"--now", "--fail", "--cacert", pki::path("ca.crt"), "--output-dir", dir, "-C",
                              "-", https("/100k.bin")});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(files_in(dir) == std::vector<std::string>{"100k.bin"}, r.output);
    BOOST_TEST(read_file(dir + "/100k.bin") == file);
    BOOST_TEST(r.output.find("HTTP 416, 0 bytes, already complete") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_retry_resumes_a_cut_download_and_keeps_a_cut_part_with_continue_at) {
    boost::asio::io_context server_ioc;
    const std::string file = test_bytes(30000);
    const std::string etag = "\"v1\"";
    fault_server server(server_ioc, {cut(head_200(file.size(), etag), file, 0, 12345, false),
                                     {fault::read_request(),
                                      fault::send(head_206(12345, file.size(), etag) + file.substr(12345))}});
    auto guard = boost::asio::make_work_guard(server_ioc);
    std::thread runner([&] { server_ioc.run(); });
    const std::string dir = make_temp_dir("resume_retry");
    auto r = run_multi_fetch({"--now", "--output-dir", dir, "--retry", "2", "--retry-delay", "0.01", "-w",
                              "retries=%{num_retries} from=%{resumed_from}\\n", server.url("/fw.bin")});
    // Without --retry the cut transfer fails; with -C - its .part stays for the next run.
    const std::string dir2 = make_temp_dir("resume_cut");
    fault_server cutter(server_ioc, {cut(head_200(file.size(), etag), file, 0, 5000, false)});
    auto r2 = run_multi_fetch({"--now", "--output-dir", dir2, "-C", "-", cutter.url("/fw.bin")});
    boost::asio::post(server_ioc, [&] {
        server.close();
        cutter.close();
        guard.reset();
    });
    runner.join();
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(read_file(dir + "/fw.bin") == file);
    BOOST_TEST(r.output.find("HTTP 206, 30000 bytes, resumed from byte 12345, 2 attempts") !=
                   std::string::npos,
               r.output);
    BOOST_TEST(r.output.find("retries=1 from=12345\n") != std::string::npos, r.output);
    BOOST_TEST(r2.status == 1, r2.output);
    BOOST_TEST(files_in(dir2) == std::vector<std::string>{"fw.bin.part"}, r2.output);
    BOOST_TEST(read_file(dir2 + "/fw.bin.part") == file.substr(0, 5000));
}

BOOST_AUTO_TEST_CASE(multi_fetch_continue_at_takes_only_a_dash) {
    auto r = run_multi_fetch({"--now", "-C", "100", "http://127.0.0.1:1/"});
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("--continue-at: only '-'") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
