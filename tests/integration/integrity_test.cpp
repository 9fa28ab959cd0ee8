// request::expected_sha256: the body's SHA-256 checked as it streams, against a real nginx; and
// multi_fetch's --sha256 and -K sha256 lines (a bad digest leaves no file).
#include <edgeloop/http/client.hpp>

#include <support/app_run.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>

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

struct nginx_fixture {
    nginx_server nginx;
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};
    std::string file = read_file(nginx.docroot() + "/100k.bin");

    std::string https(const std::string& path) const {
        return "https://localhost:" + std::to_string(nginx.https_port()) + path;
    }
    http::request with_digest(const std::string& path, std::string hex, std::string method = "GET") const {
        http::request r;
        r.method = std::move(method);
        r.url = https(path);
        r.expected_sha256 = std::move(hex);
        return r;
    }
};

using run_result = app_result;

run_result run_multi_fetch(std::vector<std::string> args) {
    return run_app(MULTI_FETCH_BIN, std::move(args), "multi_fetch_integrity");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(transfer_integrity, nginx_fixture)

BOOST_AUTO_TEST_CASE(the_right_digest_in_either_case_completes_and_reports_it) {
    auto hex = sha256_hex(file);
    std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) { return std::toupper(c); });
    auto out = fetch(ioc, client, with_digest("/100k.bin", hex));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.body == file);
    BOOST_TEST(out.info.sha256 == sha256_hex(file));
}

BOOST_AUTO_TEST_CASE(another_digest_fails_after_the_whole_body_naming_the_digest_got) {
    const std::string wrong(64, '0');
    auto out = fetch(ioc, client, with_digest("/100k.bin", wrong));
    BOOST_TEST(out.ec == make_error_code(http::error::digest_mismatch), out.ec.message());
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == file, "every byte is still delivered as it arrives");
    BOOST_TEST(out.info.sha256 == sha256_hex(file));
    BOOST_TEST(out.info.detail == "expected sha256 " + wrong + ", got " + sha256_hex(file));
    BOOST_TEST(http::describe(out.ec, out.info).find("got " + sha256_hex(file)) != std::string::npos);
    BOOST_TEST(out.done_calls == 1);
}

BOOST_AUTO_TEST_CASE(an_error_page_is_not_the_file_expected) {
    auto out = fetch(ioc, client, with_digest("/no-such-file", sha256_hex(file)));
    BOOST_TEST(out.ec == make_error_code(http::error::digest_mismatch), out.ec.message());
    BOOST_TEST(out.info.status == 404u);
}

BOOST_AUTO_TEST_CASE(a_head_request_is_not_checked) {
    auto out = fetch(ioc, client, with_digest("/100k.bin", std::string(64, 'a'), "HEAD"));
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 200u);
}

BOOST_AUTO_TEST_CASE(a_malformed_digest_is_refused_before_connecting) {
    for (const std::string& bad : {std::string(63, 'a'), std::string(64, 'g'), std::string(65, 'a')}) {
        auto out = fetch(ioc, client, with_digest("/100k.bin", bad));
        BOOST_TEST(out.ec == make_error_code(http::error::invalid_request), out.ec.message());
        BOOST_TEST(out.info.connects == 0u);
        BOOST_TEST(out.info.detail.find("expected_sha256") != std::string::npos, out.info.detail);
    }
}

BOOST_AUTO_TEST_CASE(multi_fetch_keeps_only_the_verified_file_in_the_output_dir) {
    const std::string dir = make_temp_dir("integrity_out");
    const auto good = sha256_hex(file);
    const std::string wrong(64, 'f');
    auto r = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "--output-dir", dir, "--sha256", good,
                              "--sha256", wrong, https("/100k.bin"), https("/1k.bin")});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(files_in(dir) == std::vector<std::string>{"100k.bin"}, r.output);
    BOOST_TEST(read_file(dir + "/100k.bin") == file);
    BOOST_TEST(r.output.find("the body's SHA-256 is not the one expected (expected sha256 " + wrong +
                             ", got " + sha256_hex(read_file(nginx.docroot() + "/1k.bin")) + ")") !=
                   std::string::npos,
               r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_takes_sha256_per_url_from_the_url_file) {
    const std::string dir = make_temp_dir("integrity_k");
    const auto one_k = sha256_hex(read_file(nginx.docroot() + "/1k.bin"));
    const auto hello = sha256_hex("hello from nginx\n");
    {
        std::ofstream f(dir + "/urls.txt");
        f << "url = \"" << https("/100k.bin") << "\"\nsha256 = " << sha256_hex(file) << "\n"
          << https("/1k.bin") << " sha256=" << one_k << "\n"
          << "url = \"" << https("/hello.txt") << "\"\nsha256 = " << one_k << "\n";
    }
    const std::string out = dir + "/out";
    std::filesystem::create_directory(out);
    auto r = run_multi_fetch(
        {"--now", "--cacert", pki::path("ca.crt"), "--output-dir", out, "-K", dir + "/urls.txt"});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(files_in(out) == (std::vector<std::string>{"100k.bin", "1k.bin"}), r.output);
    BOOST_TEST(r.output.find("got " + hello) != std::string::npos, r.output);
    BOOST_TEST(r.output.find("Summary: 3 transfers, 1 failed") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(multi_fetch_refuses_a_malformed_digest_as_a_usage_error) {
    auto r = run_multi_fetch({"--now", "--sha256", "abc", https("/1k.bin")});
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("--sha256: expected 64 hexadecimal digits, got 'abc'") != std::string::npos,
               r.output);
    const std::string dir = make_temp_dir("integrity_bad_k");
    std::ofstream(dir + "/urls.txt") << https("/1k.bin") << "\nsha256 = " << std::string(64, 'a') << "\n";
    r = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "-q", "-K", dir + "/urls.txt"});
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("urls.txt:2: sha256: give it once, on the line after its url = line") !=
                   std::string::npos,
               r.output);
}

BOOST_AUTO_TEST_SUITE_END()
