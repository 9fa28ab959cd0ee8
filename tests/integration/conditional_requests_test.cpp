// Conditional requests: request::if_none_match, if_modified_since and if_unmodified_since against
// nginx (ETag, Last-Modified and 304 built in); transfer_info's validators; the HTTP date forms;
// multi_fetch --etag-save / --etag-compare and -z.
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/date.hpp>

#include <support/app_run.hpp>
#include <support/fetch.hpp>
#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

namespace http = edgeloop::http;
namespace tls = edgeloop::tls;
using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

/// nginx answering If-Modified-Since with 304 for any date not before the file's (the default, "exact",
/// wants the very date it sent); download.log has the conditional fields it received.
struct conditional_nginx {
    nginx_server nginx{
        "    if_modified_since before;\n"
        "    log_format conditions escape=none '$status \"$http_if_none_match\" \"$http_if_modified_since\" "
        "\"$http_if_unmodified_since\"';\n"
        "    access_log download.log conditions;\n"};
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};

    std::string https(const std::string& path) const {
        return "https://localhost:" + std::to_string(nginx.https_port()) + path;
    }
    std::chrono::system_clock::time_point mtime(const std::string& docroot_file) const {
        struct stat st {};
        BOOST_REQUIRE(::stat((nginx.docroot() + "/" + docroot_file).c_str(), &st) == 0);
        return std::chrono::system_clock::from_time_t(st.st_mtime);
    }
    /// Rewrites a docroot file with other content and a later modification time (a new ETag).
    void change(const std::string& docroot_file, const std::string& content) const {
        const auto path = nginx.docroot() + "/" + docroot_file;
        const auto before = std::filesystem::last_write_time(path);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
        std::filesystem::last_write_time(path, before + 10s);
    }
};

using run_result = app_result;

run_result run_multi_fetch(std::vector<std::string> args) {
    return run_app(MULTI_FETCH_BIN, std::move(args), "multi_fetch_conditional");
}

void write(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

} // namespace

BOOST_AUTO_TEST_SUITE(conditional_requests)

BOOST_AUTO_TEST_CASE(http_dates_are_written_as_imf_fixdate_and_read_in_every_form) {
    const auto t = std::chrono::sys_days(std::chrono::year(1994) / 11 / 6) + 8h + 49min + 37s;
    BOOST_TEST(http::format_http_date(t) == "Sun, 06 Nov 1994 08:49:37 GMT");
    BOOST_TEST(http::format_http_date(t + 999ms) == "Sun, 06 Nov 1994 08:49:37 GMT");
    for (const char* text :
         {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
          "1994-11-06T08:49:37Z", " Sun, 06 Nov 1994 08:49:37 GMT "}) {
        const auto got = http::parse_http_date(text);
        BOOST_TEST(got.has_value(), text);
        if (got)
            BOOST_TEST((*got == t), text << " -> " << http::format_http_date(*got));
    }
    BOOST_TEST(
        (http::parse_http_date("1994-11-06") == std::chrono::sys_days(std::chrono::year(1994) / 11 / 6)));
    for (const char* bad :
         {"", "yesterday", "no such thing", "ab, 06 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
          "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 CET", "1994-11-06T08:49:37",
          "Sun, 06 Xyz 1994 08:49:37 GMT"})
        BOOST_TEST(!http::parse_http_date(bad).has_value(), bad);
}

BOOST_FIXTURE_TEST_CASE(a_stored_etag_gives_304_a_success_without_body, conditional_nginx) {
    auto first = fetch(ioc, client, get(https("/100k.bin")));
    BOOST_TEST(!first.ec, http::describe(first.ec, first.info));
    BOOST_TEST(first.info.status == 200u);
    BOOST_TEST(!first.info.not_modified);
    BOOST_TEST(first.info.etag.size() > 2u);
    BOOST_TEST(first.info.etag.front() == '"', first.info.etag);
    BOOST_TEST((http::parse_http_date(first.info.last_modified) == mtime("100k.bin")),
               first.info.last_modified);

    auto req = get(https("/100k.bin"));
    req.if_none_match = first.info.etag;
    auto again = fetch(ioc, client, req);
    BOOST_TEST(!again.ec, http::describe(again.ec, again.info));
    BOOST_TEST(again.info.status == 304u);
    BOOST_TEST(again.info.not_modified);
    BOOST_TEST(again.body.empty());
    BOOST_TEST(again.info.body_bytes == 0u);
    BOOST_TEST(again.info.etag == first.info.etag);
    BOOST_TEST(nginx.wait_for_access_log(2, 5s).find("304") != std::string::npos);
    BOOST_TEST(read_file(nginx.dir() + "/download.log").find("304 \"" + first.info.etag + "\"") !=
                   std::string::npos,
               read_file(nginx.dir() + "/download.log"));
}

BOOST_FIXTURE_TEST_CASE(a_changed_file_gives_200_with_the_new_body_and_etag, conditional_nginx) {
    auto first = fetch(ioc, client, get(https("/1k.bin")));
    BOOST_REQUIRE(!first.ec);
    change("1k.bin", "changed since\n");
    auto req = get(https("/1k.bin"));
    req.if_none_match = first.info.etag;
    req.if_modified_since = std::chrono::system_clock::now() - 1h; // before the change
    auto again = fetch(ioc, client, req);
    BOOST_TEST(!again.ec, http::describe(again.ec, again.info));
    BOOST_TEST(again.info.status == 200u);
    BOOST_TEST(!again.info.not_modified);
    BOOST_TEST(again.body == "changed since\n");
    BOOST_TEST(again.info.etag != first.info.etag);
}

BOOST_FIXTURE_TEST_CASE(if_modified_since_from_a_files_mtime, conditional_nginx) {
    auto req = get(https("/hello.txt"));
    req.if_modified_since = mtime("hello.txt");
    auto same = fetch(ioc, client, req);
    BOOST_TEST(!same.ec, http::describe(same.ec, same.info));
    BOOST_TEST(same.info.status == 304u);
    BOOST_TEST(same.info.not_modified);
    BOOST_TEST(same.body.empty());

    req.if_modified_since = mtime("hello.txt") - 1s;
    auto older = fetch(ioc, client, req);
    BOOST_TEST(older.info.status == 200u);
    BOOST_TEST(older.body == "hello from nginx\n");
    BOOST_TEST(read_file(nginx.dir() + "/download.log")
                       .find("\"" + http::format_http_date(mtime("hello.txt")) + "\"") != std::string::npos,
               read_file(nginx.dir() + "/download.log"));
}

BOOST_AUTO_TEST_CASE(a_200_not_newer_than_if_modified_since_is_taken_as_304_as_curl_does) {
    // nginx with `if_modified_since off` ignores the field and answers 200 with its Last-Modified.
    nginx_server nginx{"    if_modified_since off;\n"
                       "    log_format sent '$status $body_bytes_sent \"$http_if_modified_since\"';\n"
                       "    access_log sent.log sent;\n"};
    boost::asio::io_context ioc;
    http::client client{ioc.get_executor(), tls::context({.ca_file = pki::path("ca.crt")})};
    const auto url = "https://localhost:" + std::to_string(nginx.https_port()) + "/100k.bin";
    struct stat st {};
    BOOST_REQUIRE(::stat((nginx.docroot() + "/100k.bin").c_str(), &st) == 0);
    const auto mtime = std::chrono::system_clock::from_time_t(st.st_mtime);

    auto req = get(url);
    req.if_modified_since = mtime + 500ms; // sent as the file's own second
    std::size_t pieces = 0;
    fetch_outcome same;
    http::handlers h;
    h.on_body = [&](std::span<const std::byte>) { ++pieces; };
    client.async_fetch(req, std::move(h), detail::recording_completion(same));
    detail::wait_for_completion(ioc, same, 20s);
    BOOST_TEST(!same.ec, http::describe(same.ec, same.info));
    BOOST_TEST(same.info.status == 200u);
    BOOST_TEST(same.info.not_modified);
    BOOST_TEST(same.info.body_bytes == 0u);
    BOOST_TEST(pieces == 0u);
    BOOST_TEST(same.info.detail.find("not newer than If-Modified-Since: taken as 304") != std::string::npos,
               same.info.detail);
    BOOST_TEST(nginx.wait_for_access_log(1, 5s).find("200 ") != std::string::npos); // nginx did send 200

    req.if_modified_since = mtime - 1s; // the file is newer: its body
    auto newer = fetch(ioc, client, req);
    BOOST_TEST(!newer.ec, http::describe(newer.ec, newer.info));
    BOOST_TEST(!newer.info.not_modified);
    BOOST_TEST((newer.body == read_file(nginx.docroot() + "/100k.bin")));

    // multi_fetch -z with the local file's date: the file stays as it is, as with a real 304.
    const std::string dir = make_temp_dir("conditional_simulated");
    const std::string out = dir + "/100k.bin";
    write(out, "local");
    std::filesystem::last_write_time(out, std::filesystem::last_write_time(nginx.docroot() + "/100k.bin"));
    auto app = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "-z", out, "-o", out, url});
    BOOST_TEST(app.status == 0, app.output);
    BOOST_TEST(app.output.find("HTTP 200, 0 bytes, not modified") != std::string::npos, app.output);
    BOOST_TEST(read_file(out) == "local");
    BOOST_TEST(!std::filesystem::exists(out + ".part"));
    // With -C - and no .part from an earlier run: none is left behind either.
    auto resumed =
        run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "-C", "-", "-z", out, "-o", out, url});
    BOOST_TEST(resumed.status == 0, resumed.output);
    BOOST_TEST(resumed.output.find("not modified") != std::string::npos, resumed.output);
    BOOST_TEST(read_file(out) == "local");
    BOOST_TEST(!std::filesystem::exists(out + ".part"));
}

BOOST_FIXTURE_TEST_CASE(if_unmodified_since_a_date_before_the_file_is_refused_with_412, conditional_nginx) {
    auto req = get(https("/hello.txt"));
    req.if_unmodified_since = mtime("hello.txt") - 1h;
    auto out = fetch(ioc, client, req);
    BOOST_TEST(!out.ec, http::describe(out.ec, out.info));
    BOOST_TEST(out.info.status == 412u);
    BOOST_TEST(!out.info.not_modified);
    req.if_unmodified_since = mtime("hello.txt");
    out = fetch(ioc, client, req);
    BOOST_TEST(out.info.status == 200u);
    BOOST_TEST(out.body == "hello from nginx\n");
}

BOOST_FIXTURE_TEST_CASE(multi_fetch_etag_save_then_compare_leaves_the_file_untouched, conditional_nginx) {
    const std::string dir = make_temp_dir("conditional_etag");
    const std::string etag_file = dir + "/etag";
    const std::string out = dir + "/100k.bin";
    const std::vector<std::string> common = {
        "--now", "--cacert", pki::path("ca.crt"), "--etag-compare", etag_file, "--etag-save", etag_file,
        "-o",    out,        https("/100k.bin")};
    auto first = run_multi_fetch(common);
    BOOST_TEST(first.status == 0, first.output);
    BOOST_TEST((read_file(out) == read_file(nginx.docroot() + "/100k.bin")));
    const auto saved = read_file(etag_file);
    BOOST_TEST(saved.size() > 3u);
    BOOST_TEST(saved.back() == '\n');

    write(out, "my local copy"); // not replaced by a 304
    const auto written = std::filesystem::last_write_time(out);
    auto second = run_multi_fetch(common);
    BOOST_TEST(second.status == 0, second.output);
    BOOST_TEST(second.output.find("download complete: HTTP 304, 0 bytes, not modified") != std::string::npos,
               second.output);
    BOOST_TEST(read_file(out) == "my local copy");
    BOOST_TEST((std::filesystem::last_write_time(out) == written));
    BOOST_TEST(!std::filesystem::exists(out + ".part"));
    BOOST_TEST(read_file(etag_file) == saved);

    change("100k.bin", "new version\n");
    auto third = run_multi_fetch(common);
    BOOST_TEST(third.status == 0, third.output);
    BOOST_TEST(third.output.find("HTTP 200") != std::string::npos, third.output);
    BOOST_TEST(read_file(out) == "new version\n");
    BOOST_TEST(read_file(etag_file) != saved);

    // --etag-compare alone with no such file: refused before anything is sent.
    auto missing = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "--etag-compare", dir + "/none",
                                    "-o", dir + "/x", https("/1k.bin")});
    BOOST_TEST(missing.status == 1, missing.output);
    BOOST_TEST(missing.output.find("--etag-compare " + dir + "/none: cannot open") != std::string::npos,
               missing.output);
    BOOST_TEST(!std::filesystem::exists(dir + "/x"));
}

BOOST_FIXTURE_TEST_CASE(multi_fetch_time_cond_from_a_file_and_a_date, conditional_nginx) {
    const std::string dir = make_temp_dir("conditional_z");
    const std::string out = dir + "/hello.txt";
    write(out, "local");
    std::filesystem::last_write_time(out, std::filesystem::last_write_time(nginx.docroot() + "/hello.txt"));
    auto by_file = run_multi_fetch(
        {"--now", "--cacert", pki::path("ca.crt"), "-z", out, "-o", out, https("/hello.txt")});
    BOOST_TEST(by_file.status == 0, by_file.output);
    BOOST_TEST(by_file.output.find("not modified") != std::string::npos, by_file.output);
    BOOST_TEST(read_file(out) == "local");

    auto old_date = run_multi_fetch({"--now", "--cacert", pki::path("ca.crt"), "--time-cond",
                                     "Sun, 06 Nov 1994 08:49:37 GMT", "-o", out, https("/hello.txt")});
    BOOST_TEST(old_date.status == 0, old_date.output);
    BOOST_TEST(read_file(out) == "hello from nginx\n");

    // -DATE: If-Unmodified-Since; the file changed after 1994: 412, a failure with --fail.
    auto unmodified = run_multi_fetch(
        {"--now", "--fail", "--cacert", pki::path("ca.crt"), "--time-cond=-1994-11-06", https("/hello.txt")});
    BOOST_TEST(unmodified.status == 1, unmodified.output);
    BOOST_TEST(unmodified.output.find("412") != std::string::npos, unmodified.output);

    auto neither = run_multi_fetch(
        {"--now", "--cacert", pki::path("ca.crt"), "-z", "no such thing", https("/hello.txt")});
    BOOST_TEST(neither.status == 0, neither.output);
    BOOST_TEST(neither.output.find("warning: --time-cond no such thing: neither a date") != std::string::npos,
               neither.output);
}

BOOST_AUTO_TEST_SUITE_END()
