// request::decompress: Content-Encoding gzip and deflate decoded as the body streams, against nginx's
// gzip module and against crafted bodies (compressed here with zlib) from the fault server; a
// decompression bomb stops at the body limit, a corrupt stream is its own error; multi_fetch
// --compressed keeps no file of either.
#include <edgeloop/http/client.hpp>

#include <support/app_run.hpp>
#include <support/fault_server.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>
#include <zlib.h>

#include <boost/asio/post.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// windowBits as zlib takes them: 15 zlib-wrapped, -15 raw deflate, 15 + 16 gzip.
std::string compress(const std::string& data, int window_bits) {
    z_stream z{};
    BOOST_REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    BOOST_REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}
std::string gzip(const std::string& data) {
    return compress(data, 15 + 16);
}

std::string response(const std::string& encoding, const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Encoding: " + encoding +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

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

/// nginx compressing .bin and .txt responses of any size when asked; download.log records, per request,
/// the status, the Accept-Encoding received and the body bytes sent.
struct gzip_nginx {
    nginx_server nginx{"    gzip on;\n    gzip_types application/octet-stream text/plain;\n"
                       "    gzip_min_length 1;\n"
                       "    log_format download '$status \"$http_accept_encoding\" $body_bytes_sent';\n"
                       "    access_log download.log download;\n"};
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};
    std::string file = read_file(nginx.docroot() + "/100k.bin");

    std::string https(const std::string& path) const {
        return "https://localhost:" + std::to_string(nginx.https_port()) + path;
    }
    /// The last line of download.log, once nginx has written `lines` of them.
    std::string last_logged(std::size_t lines) const {
        const std::string log = nginx.dir() + "/download.log";
        for (int i = 0; i < 200; ++i) {
            const auto text = read_file(log);
            if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) {
                const auto end = text.rfind('\n');
                const auto begin = text.rfind('\n', end - 1);
                return text.substr(begin == std::string::npos ? 0 : begin + 1,
                                   end - (begin == std::string::npos ? 0 : begin + 1));
            }
            std::this_thread::sleep_for(10ms);
        }
        return "(no line " + std::to_string(lines) + " in download.log: " + read_file(log) + ")";
    }
};

http::request decompressed(std::string url) {
    auto r = get(std::move(url));
    r.decompress = true;
    return r;
}

using run_result = app_result;

run_result run_multi_fetch(std::vector<std::string> args) {
    return run_app(MULTI_FETCH_BIN, std::move(args), "multi_fetch_encoding");
}

bool dir_empty(const std::string& dir) {
    return std::filesystem::directory_iterator(dir) == std::filesystem::directory_iterator();
}

} // namespace

BOOST_AUTO_TEST_SUITE(content_encoding)

BOOST_FIXTURE_TEST_CASE(nginx_gzip_is_decoded_byte_identical_and_the_digest_is_of_the_decoded_body,
                        gzip_nginx) {
    auto req = decompressed(https("/100k.bin"));
    req.expected_sha256 = sha256_hex(file);
    auto out = fetch(ioc, client, req);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.head.header("Content-Encoding") == "gzip");
    BOOST_TEST(out.info.content_encoding == "gzip");
    BOOST_TEST(out.body.size() == file.size());
    BOOST_TEST((out.body == file));
    BOOST_TEST(out.info.body_bytes == file.size(), "body_bytes counts the decoded bytes");
    const auto line = last_logged(1);
    BOOST_TEST(line.rfind("200 \"gzip, deflate\" ", 0) == 0u, line);
    const auto sent = std::stoul(line.substr(line.rfind(' ') + 1));
    BOOST_TEST(sent < file.size() / 2, "nginx sent " << sent << " compressed bytes");
}

BOOST_FIXTURE_TEST_CASE(without_the_option_nothing_is_asked_and_the_body_arrives_as_is, gzip_nginx) {
    auto out = fetch(ioc, client, get(https("/100k.bin")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.head.header("Content-Encoding").empty());
    BOOST_TEST((out.body == file));
    BOOST_TEST(last_logged(1).rfind("200 \"-\" 102400", 0) == 0u, last_logged(1));
    // Asked by a header of the caller's own, but not decoded: the gzip bytes are delivered.
    auto own = get(https("/100k.bin"));
    own.headers.emplace_back("Accept-Encoding", "gzip");
    out = fetch(ioc, client, own);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.head.header("Content-Encoding") == "gzip");
    BOOST_TEST(out.body.size() < file.size() / 2);
    BOOST_TEST(out.info.content_encoding.empty());
}

BOOST_AUTO_TEST_CASE(deflate_is_decoded_zlib_wrapped_and_raw) {
    boost::asio::io_context ioc;
    const std::string data = test_bytes(300000);
    for (const int bits : {15, -15}) {
        fault_server server(ioc, {fault::answer(response("deflate", compress(data, bits)))});
        http::client client(ioc.get_executor());
        auto out = fetch(ioc, client, decompressed(server.url("/d")));
        BOOST_TEST(!out.ec, bits << ": " << http::describe(out.ec, out.info));
        BOOST_TEST(out.info.content_encoding == "deflate");
        BOOST_TEST((out.body == data), "windowBits " << bits << ": " << out.body.size() << " bytes");
    }
}

BOOST_AUTO_TEST_CASE(a_paced_consumer_gets_every_decoded_piece_one_at_a_time) {
    boost::asio::io_context ioc;
    const std::string data = test_bytes(200000);
    fault_server server(ioc, {fault::answer(response("x-gzip", gzip(data)))});
    http::client client(ioc.get_executor());
    auto req = decompressed(server.url("/p"));
    req.limits = client.options().limits;
    req.limits->body_chunk_bytes = 4096; // 49 decoded pieces out of one or two raw ones
    fetch_outcome out;
    http::handlers h;
    std::size_t pieces = 0;
    h.on_body_paced = [&](std::span<const std::byte> bytes, std::function<void()> resume) {
        ++pieces;
        BOOST_TEST(bytes.size() <= 4096u);
        out.body.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        boost::asio::post(ioc, std::move(resume)); // later, from the loop
    };
    client.async_fetch(req, std::move(h), detail::recording_completion(out));
    detail::wait_for_completion(ioc, out, 20s);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST((out.body == data), out.body.size());
    BOOST_TEST(pieces >= data.size() / 4096);
}

BOOST_AUTO_TEST_CASE(a_gzip_bomb_stops_at_the_body_limit_without_decoding_past_it) {
    boost::asio::io_context ioc;
    const std::string bomb = gzip(std::string(10 << 20, '\0'));
    BOOST_TEST_MESSAGE("10 MiB of zeros gzipped: " << bomb.size() << " bytes");
    BOOST_TEST(bomb.size() < 20000u);
    fault_server server(ioc, {fault::answer(response("gzip", bomb))});
    http::client client(ioc.get_executor());
    auto req = decompressed(server.url("/bomb"));
    req.limits = client.options().limits;
    req.limits->max_body_bytes = 1 << 20;
    auto out = fetch(ioc, client, req);
    BOOST_TEST(out.ec == make_error_code(http::error::body_too_large), http::describe(out.ec, out.info));
    BOOST_TEST(out.info.body_bytes <= std::uint64_t{1} << 20);
    BOOST_TEST(out.body.size() <= std::size_t{1} << 20);
    BOOST_TEST(out.info.detail.find("decoded (gzip) body over the limit of 1048576 bytes") !=
                   std::string::npos,
               out.info.detail);
    // Without a limit the 10 MiB arrive whole: each raw piece decodes to hundreds of pieces, delivered
    // in a loop (a recursion per piece overflowed the stack here).
    std::uint64_t zeros = 0;
    fetch_outcome whole;
    http::handlers h;
    h.on_body = [&](std::span<const std::byte> bytes) {
        for (const auto b : bytes)
            zeros += b == std::byte{0};
    };
    client.async_fetch(decompressed(server.url("/bomb")), std::move(h), detail::recording_completion(whole));
    detail::wait_for_completion(ioc, whole, 20s);
    BOOST_TEST(!whole.ec, http::describe(whole.ec, whole.info));
    BOOST_TEST(whole.info.body_bytes == std::uint64_t{10} << 20);
    BOOST_TEST(zeros == std::uint64_t{10} << 20);
}

BOOST_AUTO_TEST_CASE(a_corrupt_or_truncated_stream_is_its_own_error_naming_the_encoding) {
    boost::asio::io_context ioc;
    const std::string data = test_bytes(100000);
    std::string corrupt = gzip(data);
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
    std::string bad_crc = gzip(data);
    bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 0x01);
    const std::string whole = gzip(data);
    const std::string truncated = whole.substr(0, whole.size() - 10);
    struct expectation {
        std::string name, body, detail;
    };
    for (const auto& [name, body, detail] :
         {expectation{"corrupt", corrupt, "gzip: "},
          expectation{"bad crc", bad_crc, "gzip: incorrect data check"},
          expectation{"truncated", truncated, "gzip: the stream is truncated"},
          expectation{"not gzip", std::string(5000, 'x'), "gzip: incorrect header check"}}) {
        fault_server server(ioc, {fault::answer(response("gzip", body))});
        http::client client(ioc.get_executor());
        auto out = fetch(ioc, client, decompressed(server.url("/c")));
        BOOST_TEST(out.ec == make_error_code(http::error::bad_content_encoding),
                   name << ": " << http::describe(out.ec, out.info));
        BOOST_TEST(out.info.detail.rfind(detail, 0) == 0u, name << ": " << out.info.detail);
    }
}

BOOST_AUTO_TEST_CASE(concatenated_gzip_members_are_all_decoded_and_other_trailing_bytes_refused) {
    boost::asio::io_context ioc;
    const std::string first = test_bytes(70000), second = std::string(30000, 'z') + test_bytes(5000);
    const std::string two = gzip(first) + gzip(second);
    const auto head = [](std::size_t length) {
        return "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(length) +
               "\r\n\r\n";
    };
    // Both members in one write, and the second member's start in pieces of its own (the boundary between
    // reads: its first byte, then the rest).
    const auto g2 = gzip(second);
    for (const auto& step : {fault::answer(response("gzip", two)),
                             fault_step{fault::read_request(), fault::send(head(two.size()) + gzip(first)),
                                        fault::send_bytewise(g2.substr(0, 3)), fault::send(g2.substr(3))}}) {
        fault_server server(ioc, {step});
        http::client client(ioc.get_executor());
        auto out = fetch(ioc, client, decompressed(server.url("/two")));
        BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
        BOOST_TEST((out.body == first + second), out.body.size() << " decoded bytes");
        BOOST_TEST(out.info.body_bytes == first.size() + second.size());
    }
    // After the last member: anything but another member is an error (as curl), and so is a second
    // member cut short; after a deflate stream nothing may follow.
    struct expectation {
        std::string name, encoding, body, detail;
    };
    const std::string g1 = gzip(first);
    for (const auto& [name, encoding, body, detail] :
         {expectation{"garbage after gzip", "gzip", g1 + "garbage", "gzip: data after the end of the stream"},
          expectation{"zeros after gzip", "gzip", g1 + std::string(16, '\0'),
                      "gzip: data after the end of the stream (after 70000 decoded bytes)"},
          expectation{"second member truncated", "gzip", g1 + g2.substr(0, g2.size() - 4),
                      "gzip: the stream is truncated"},
          expectation{"bytes after deflate", "deflate", compress(first, 15) + "x",
                      "deflate: data after the end of the stream"}}) {
        fault_server server(ioc, {fault::answer(response(encoding, body))});
        http::client client(ioc.get_executor());
        auto out = fetch(ioc, client, decompressed(server.url("/t")));
        BOOST_TEST(out.ec == make_error_code(http::error::bad_content_encoding),
                   name << ": " << http::describe(out.ec, out.info));
        BOOST_TEST(out.info.detail.rfind(detail, 0) == 0u, name << ": " << out.info.detail);
    }
}

BOOST_AUTO_TEST_CASE(an_unknown_encoding_is_refused_when_decoding_was_asked) {
    boost::asio::io_context ioc;
    for (const std::string encoding : {"br", "gzip, gzip", "zstd"}) {
        fault_server server(ioc, {fault::answer(response(encoding, "abc"))});
        http::client client(ioc.get_executor());
        auto out = fetch(ioc, client, decompressed(server.url("/u")));
        BOOST_TEST(out.ec == make_error_code(http::error::unsupported_content_encoding), encoding);
        BOOST_TEST(out.info.detail == "Content-Encoding: " + encoding);
        // Not asked: delivered as it is.
        out = fetch(ioc, client, get(server.url("/u")));
        BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
        BOOST_TEST(out.body == "abc");
    }
    fault_server identity(ioc, {fault::answer(response("identity", "plain"))});
    http::client client(ioc.get_executor());
    auto out = fetch(ioc, client, decompressed(identity.url("/i")));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == "plain");
}

BOOST_FIXTURE_TEST_CASE(multi_fetch_compressed_writes_the_decoded_file, gzip_nginx) {
    const std::string dir = make_temp_dir("encoding_out");
    auto r = run_multi_fetch(
        {"--now", "--compressed", "--cacert", pki::path("ca.crt"), "--output-dir", dir, https("/100k.bin")});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST((read_file(dir + "/100k.bin") == file));
    BOOST_TEST(last_logged(1).rfind("200 \"gzip, deflate\" ", 0) == 0u, last_logged(1));
}

BOOST_AUTO_TEST_CASE(multi_fetch_keeps_no_file_of_a_bomb_or_a_corrupt_stream) {
    boost::asio::io_context ioc;
    std::string corrupt = gzip(test_bytes(100000));
    corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x55);
    fault_server bomb(ioc, {fault::answer(response("gzip", gzip(std::string(10 << 20, '\0'))))});
    fault_server bad(ioc, {fault::answer(response("gzip", corrupt))});
    std::thread loop([&] { ioc.run_for(30s); });
    const std::string dir = make_temp_dir("encoding_bad");
    auto r = run_multi_fetch({"--now", "--compressed", "--max-filesize", "1048576", "--output-dir", dir,
                              bomb.url("/bomb.bin"), bad.url("/bad.bin")});
    ioc.stop();
    loop.join();
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(dir_empty(dir), r.output);
    BOOST_TEST(r.output.find("cannot be decoded") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("exceeds the size limit") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
