// The multi_fetch program, run as a user would: output format, exit statuses, clear errors.
#include <edgeloop/devserver/server.hpp>

#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

struct run_result {
    int status = -1;
    std::string output;
};

/// Runs multi_fetch with the arguments, stdout+stderr captured, bounded to `limit`.
run_result run_multi_fetch(std::vector<std::string> args, std::chrono::milliseconds limit = 30s) {
    static const std::string dir = make_temp_dir("multi_fetch_app");
    static int n = 0;
    const std::string log = dir + "/run" + std::to_string(++n) + ".log";
    args.insert(args.begin(), MULTI_FETCH_BIN);
    child_process p(args, log);
    auto status = p.wait_for_exit(limit);
    BOOST_REQUIRE_MESSAGE(status.has_value(), "multi_fetch did not exit in time; output:\n"
                                                  << read_file(log));
    return {*status, read_file(log)};
}

/// A devserver running on its own thread, for a child process to talk to.
struct background_devserver {
    boost::asio::io_context ioc;
    edgeloop::devserver::server server{ioc.get_executor()};
    std::thread thread{[this] { ioc.run(); }};
    ~background_devserver() {
        boost::asio::post(ioc, [this] { server.stop(); });
        thread.join();
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(multi_fetch_app)

BOOST_AUTO_TEST_CASE(help_documents_the_exit_statuses) {
    auto r = run_multi_fetch({"--help"});
    BOOST_TEST(r.status == 0);
    BOOST_TEST(r.output.find("Exit status:") != std::string::npos);
    BOOST_TEST(r.output.find("--cacert") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_option_value_is_a_usage_error) {
    auto r = run_multi_fetch({"--connect-timeout", "soon", "https://localhost/"});
    BOOST_TEST(r.status == 2);
    BOOST_TEST(r.output.find("connect-timeout") != std::string::npos, r.output);
    auto neg = run_multi_fetch({"--max-time", "-3", "https://localhost/"});
    BOOST_TEST(neg.status == 2);
    auto unknown = run_multi_fetch({"--no-such-option"});
    BOOST_TEST(unknown.status == 2);
}

BOOST_AUTO_TEST_CASE(missing_ca_file_is_a_configuration_error_naming_it) {
    auto r = run_multi_fetch({"--cacert", "/nonexistent/ca.pem", "https://localhost/"});
    BOOST_TEST(r.status == 3);
    BOOST_TEST(r.output.find("/nonexistent/ca.pem") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(demo_runs_both_sample_transfers_and_prints_completions) {
    auto r = run_multi_fetch({"--demo"});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(r.output.find("-==- Starting downloads -==-") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("[1] 200 OK") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("[2] 400 Bad Request") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("/200?sleep=5000 download complete: HTTP 200") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("/400?sleep=1000 download complete: HTTP 400") != std::string::npos, r.output);
    // The short transfer finishes first although it started second: they ran concurrently.
    BOOST_TEST(r.output.find("HTTP 400") < r.output.find("HTTP 200"), r.output);
}

BOOST_AUTO_TEST_CASE(fail_option_turns_an_error_status_into_exit_1) {
    background_devserver dev;
    const auto url = dev.server.url("/400");
    auto lenient = run_multi_fetch({"--cacert", dev.server.ca_file(), url});
    BOOST_TEST(lenient.status == 0, lenient.output);
    auto strict = run_multi_fetch({"--fail", "--cacert", dev.server.ca_file(), url});
    BOOST_TEST(strict.status == 1, strict.output);
}

BOOST_AUTO_TEST_CASE(untrusted_server_fails_with_a_message_naming_host_and_reason) {
    background_devserver dev; // its CA is not in the system store
    auto r = run_multi_fetch({"--capath", "/etc/ssl/certs", dev.server.url("/200")});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(r.output.find("127.0.0.1:" + std::to_string(dev.server.port()) +
                             ": server certificate issuer is not trusted") != std::string::npos,
               r.output);
}

BOOST_AUTO_TEST_CASE(each_body_line_is_prefixed_by_its_transfer) {
    background_devserver dev;
    auto r =
        run_multi_fetch({"--cacert", dev.server.ca_file(),
                         dev.server.url("/drip?chunks=3&interval_ms=50&size=8"), dev.server.url("/200")});
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(r.output.find("[2] 200 OK") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("[1] ") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(sigterm_mid_transfer_exits_with_interrupted_status) {
    background_devserver dev;
    static const std::string dir = make_temp_dir("multi_fetch_sigterm");
    child_process p({MULTI_FETCH_BIN, "--cacert", dev.server.ca_file(), dev.server.url("/200?sleep=20000")},
                    dir + "/out.log");
    // Wait until the transfer is running: the start line is printed before the request goes out.
    BOOST_REQUIRE_MESSAGE(wait_for_text(dir + "/out.log", "Starting downloads", 10s),
                          "the transfers never started:\n"
                              << read_file(dir + "/out.log"));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 4, read_file(dir + "/out.log"));
    BOOST_TEST(read_file(dir + "/out.log").find("Application exiting.") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(output_dir_files_are_byte_identical_and_failures_leave_none) {
    nginx_server nginx;
    const std::string dir = make_temp_dir("multi_fetch_out");
    const std::string base = "https://localhost:" + std::to_string(nginx.https_port());
    auto r = run_multi_fetch({"--cacert", pki::path("ca.crt"), "--output-dir", dir, "--max-time", "2",
                              base + "/100k.bin", base + "/100k.bin", base + "/hello.txt",
                              "https://localhost:" + std::to_string(free_port()) + "/gone.bin"});
    BOOST_TEST(r.status == 1, r.output); // the refused one
    BOOST_TEST(read_file(dir + "/100k.bin") == read_file(nginx.docroot() + "/100k.bin"));
    BOOST_TEST(read_file(dir + "/100k.bin.1") == read_file(nginx.docroot() + "/100k.bin"));
    BOOST_TEST(read_file(dir + "/hello.txt") == "hello from nginx\n");
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++files;
    BOOST_TEST(files == 3u, "no gone.bin and no .part file may be left");
    BOOST_TEST(r.output.find("Summary: 4 transfers, 1 failed, 204817 bytes") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(url_file_and_allowlist) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_urls");
    {
        std::ofstream f(dir + "/urls.txt");
        f << "# comment\n\nurl = \"" << dev.server.url("/200") << "\"\n"
          << "https://localhost:" << dev.server.port() << "/201\n";
    }
    auto r =
        run_multi_fetch({"--cacert", dev.server.ca_file(), "--allow", "localhost", "-K", dir + "/urls.txt"});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST(r.output.find("host is not in the allowlist (host 127.0.0.1)") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("/201 download complete: HTTP 201") != std::string::npos, r.output);
    BOOST_TEST(dev.server.connections_accepted() == 1u);
}

BOOST_AUTO_TEST_CASE(max_total_serialises_transfers_on_few_connections) {
    background_devserver dev;
    std::vector<std::string> args{"--cacert", dev.server.ca_file(), "--max-total", "1", "-q"};
    for (int i = 0; i < 5; ++i)
        args.push_back(dev.server.url("/bytes/1000"));
    auto r = run_multi_fetch(args);
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(dev.server.connections_accepted() == 1u);
    BOOST_TEST(r.output.find("Summary: 5 transfers, 0 failed, 5000 bytes") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(urls_from_a_pipe_on_stdin_start_as_they_are_read) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_stdin");
    const std::string fifo = dir + "/urls";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // stdin is a pipe (the FIFO); the writer below keeps it open between the URLs.
    child_process p({"/bin/sh", "-c", std::string("exec \"$0\" --now -q --cacert \"$1\" -K - < \"$2\""),
                     MULTI_FETCH_BIN, dev.server.ca_file(), fifo},
                    dir + "/out.log");
    const auto wait_for = [&](const std::string& text) { return wait_for_text(dir + "/out.log", text, 10s); };
    {
        std::ofstream urls(fifo); // opens once the shell has opened the reading end
        urls << dev.server.url("/bytes/10") << std::endl;
        // The first transfer runs and completes while stdin stays open: URLs are not read to the end first.
        BOOST_REQUIRE_MESSAGE(wait_for("[1] -==- " + dev.server.url("/bytes/10") + " download complete"),
                              read_file(dir + "/out.log"));
        urls << "# a comment\n"
             << dev.server.url("/bytes/20") << "\nurl = \"" << dev.server.url("/bytes/30") << "\""
             << std::endl; // the last line without a newline
    }
    auto status = p.wait_for_exit(20s);
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(dir + "/out.log");
    BOOST_TEST(*status == 0, out);
    BOOST_TEST(
        out.find("[2] -==- " + dev.server.url("/bytes/20") + " download complete") != std::string::npos, out);
    BOOST_TEST(
        out.find("[3] -==- " + dev.server.url("/bytes/30") + " download complete") != std::string::npos, out);
    BOOST_TEST(out.find("Summary: 3 transfers, 0 failed, 60 bytes") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(stdin_urls_are_fetched_by_the_first_press_only_and_later_presses_say_so) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_stdin_presses");
    const std::string buttons = dir + "/buttons";
    std::ofstream(dir + "/urls.txt") << dev.server.url("/bytes/10") << "\n";
    child_process p({"/bin/sh", "-c", "exec \"$0\" --cacert \"$1\" --sim-fifo \"$2\" -K - < \"$3\"",
                     MULTI_FETCH_BIN, dev.server.ca_file(), buttons, dir + "/urls.txt"},
                    dir + "/out.log");
    const auto wait_for = [&](const std::string& text) { return wait_for_text(dir + "/out.log", text, 10s); };
    BOOST_REQUIRE(wait_for("Press BUTTON_A"));
    std::ofstream(buttons) << "BUTTON_A\n";
    BOOST_REQUIRE_MESSAGE(wait_for("download complete: HTTP 200"), read_file(dir + "/out.log"));
    std::ofstream(buttons) << "BUTTON_A\n"; // stdin is at its end now
    BOOST_REQUIRE_MESSAGE(wait_for("No URLs to fetch: press ignored"), read_file(dir + "/out.log"));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(dir + "/out.log");
    BOOST_TEST(*status == 0, out); // between batches: nothing was interrupted
    BOOST_TEST(out.find("stdin (-K -) was read to its end by the first press") != std::string::npos, out);
    BOOST_TEST(out.find("Starting downloads") == out.rfind("Starting downloads"), "one batch only:\n" << out);
    BOOST_TEST(out.find("Summary: 1 transfers, 0 failed, 10 bytes") != std::string::npos, out);
    BOOST_TEST(dev.server.requests_served() == 1u);
}

BOOST_AUTO_TEST_CASE(sigint_while_waiting_for_more_urls_on_stdin_exits_with_interrupted_status) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_stdin_sigint");
    const std::string fifo = dir + "/urls";
    BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    child_process p({"/bin/sh", "-c", "exec \"$0\" --now -q --cacert \"$1\" -K - < \"$2\"", MULTI_FETCH_BIN,
                     dev.server.ca_file(), fifo},
                    dir + "/out.log");
    std::ofstream urls(fifo); // kept open: multi_fetch waits for more URLs after the first
    urls << dev.server.url("/bytes/10") << std::endl;
    BOOST_REQUIRE_MESSAGE(wait_for_text(dir + "/out.log", "download complete", 10s),
                          read_file(dir + "/out.log"));
    p.signal(SIGINT); // no transfer runs: only the reading of stdin is cut short
    auto status = p.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(dir + "/out.log");
    BOOST_TEST(*status == 4, out);
    BOOST_TEST(out.find("Application exiting.") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(a_bad_line_on_stdin_mid_run_names_it_exits_2_and_lets_started_transfers_finish) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_bad_line");
    {
        std::ofstream f(dir + "/urls.txt");
        f << dev.server.url("/200?sleep=500") << "\n# fine\nbogus line\n"
          << dev.server.url("/bytes/5") << "\n";
    }
    child_process p({"/bin/sh", "-c", "exec \"$0\" --now -q --cacert \"$1\" -K - < \"$2\"", MULTI_FETCH_BIN,
                     dev.server.ca_file(), dir + "/urls.txt"},
                    dir + "/out.log");
    auto status = p.wait_for_exit(20s);
    BOOST_REQUIRE(status.has_value());
    const run_result r{*status, read_file(dir + "/out.log")};
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("multi_fetch: --url-file - (stdin):3: unknown option 'bogus' (not a URL, nor an "
                             "option a -K file can carry); no more URLs read, "
                             "the 1 transfers started run to their end") != std::string::npos,
               r.output);
    // The transfer started before the bad line completes (it is not cancelled); the one after is not read.
    BOOST_TEST(r.output.find("/200?sleep=500 download complete: HTTP 200") != std::string::npos, r.output);
    BOOST_TEST(r.output.find("Summary: 1 transfers, 0 failed") != std::string::npos, r.output);
    BOOST_TEST(dev.server.requests_served() == 1u);
}

BOOST_AUTO_TEST_CASE(a_url_file_line_without_end_is_refused_at_the_line_limit) {
    const std::string dir = make_temp_dir("multi_fetch_long_line");
    std::ofstream(dir + "/urls.txt") << "https://localhost/" << std::string(100000, 'a'); // no newline
    auto r = run_multi_fetch({"--now", "-q", "-K", dir + "/urls.txt"});
    BOOST_TEST(r.status == 2, r.output);
    BOOST_TEST(r.output.find("--url-file " + dir + "/urls.txt:1: line longer than 65536 bytes") !=
                   std::string::npos,
               r.output);
    BOOST_TEST(r.output.find("Summary: 0 transfers") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(a_long_url_file_gives_every_completion_line_and_the_summary) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_long_list");
    constexpr int n = 2000;
    {
        std::ofstream f(dir + "/urls.txt");
        for (int i = 1; i <= n; ++i)
            f << dev.server.url("/bytes/" + std::to_string(i % 7 + 1)) << "\n";
    }
    auto r = run_multi_fetch({"--now", "-q", "--max-total", "4", "--cacert", dev.server.ca_file(),
                              "--url-file", dir + "/urls.txt"},
                             120s);
    BOOST_TEST(r.status == 0, r.output.substr(0, 2000));
    std::uint64_t bytes = 0;
    int missing = 0;
    for (int i = 1; i <= n; ++i) {
        bytes += i % 7 + 1;
        const auto line = "[" + std::to_string(i) + "] -==- " +
                          dev.server.url("/bytes/" + std::to_string(i % 7 + 1)) +
                          " download complete: HTTP 200, " + std::to_string(i % 7 + 1) + " bytes";
        missing += r.output.find(line) == std::string::npos;
    }
    BOOST_TEST(missing == 0);
    BOOST_TEST(r.output.find("Summary: " + std::to_string(n) + " transfers, 0 failed, " +
                             std::to_string(bytes) + " bytes") != std::string::npos,
               r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0));
    BOOST_TEST(dev.server.connections_accepted() <= 4u);
}

BOOST_AUTO_TEST_CASE(a_long_list_keeps_its_connections_alive_up_to_max_total) {
    // More connections than pool_options::max_idle's default (32): a burst of completions must not close
    // the connections above it, to open new ones for the next URLs of the list a moment later.
    nginx_server nginx;
    const std::string dir = make_temp_dir("multi_fetch_keep_alive");
    constexpr int n = 3000;
    {
        std::ofstream f(dir + "/urls.txt");
        for (int i = 0; i < n; ++i)
            f << "https://localhost:" << nginx.https_port() << "/hello.txt\n";
    }
    auto r = run_multi_fetch(
        {"--now", "-q", "--max-total", "48", "--cacert", pki::path("ca.crt"), "-K", dir + "/urls.txt"}, 120s);
    BOOST_TEST(r.status == 0, r.output.substr(r.output.size() > 2000 ? r.output.size() - 2000 : 0));
    // Access log lines: status, session reused, connection serial number, request.
    std::istringstream log(nginx.wait_for_access_log(n, 10s));
    std::set<std::string> connections;
    for (std::string status, reused, connection, rest; log >> status >> reused >> connection;) {
        std::getline(log, rest);
        connections.insert(connection);
    }
    BOOST_TEST(connections.size() <= 48u);
}

BOOST_AUTO_TEST_CASE(button_press_through_the_sim_fifo_starts_the_transfers_once) {
    background_devserver dev;
    const std::string dir = make_temp_dir("multi_fetch_fifo");
    const std::string fifo = dir + "/buttons";
    child_process p({MULTI_FETCH_BIN, "--cacert", dev.server.ca_file(), "--sim-fifo", fifo,
                     dev.server.url("/200?sleep=1500")},
                    dir + "/out.log");
    const auto wait_for = [&](const std::string& text) { return wait_for_text(dir + "/out.log", text, 10s); };
    BOOST_REQUIRE(wait_for("Press BUTTON_A"));
    std::ofstream(fifo) << "BUTTON_A\n";
    BOOST_REQUIRE(wait_for("Starting downloads"));
    std::ofstream(fifo) << "BUTTON_A\n"; // while the transfer runs
    BOOST_REQUIRE(wait_for("press ignored"));
    BOOST_REQUIRE_MESSAGE(wait_for("download complete: HTTP 200"), read_file(dir + "/out.log"));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 0, read_file(dir + "/out.log"));
    BOOST_TEST(dev.server.requests_served() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_led_is_a_board_error_listing_the_known_names) {
    auto r = run_multi_fetch({"--led", "LED9", "--now", "https://localhost/"});
    BOOST_TEST(r.status == 5, r.output);
    BOOST_TEST(r.output.find("LED1") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(sigterm_mid_body_with_output_dir_leaves_no_file_and_the_led_off) {
    background_devserver dev;
    const std::string out_dir = make_temp_dir("multi_fetch_sigterm_files");
    const std::string log = make_temp_dir("multi_fetch_sigterm_log") + "/out.log";
    child_process p({MULTI_FETCH_BIN, "-v", "--cacert", dev.server.ca_file(), "--output-dir", out_dir,
                     dev.server.url("/drip?chunks=200&interval_ms=100&size=8192")},
                    log);
    // Mid-body: the partial file has received bytes.
    const std::string part = out_dir + "/drip.part";
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (read_file(part).empty() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(20ms);
    BOOST_REQUIRE_MESSAGE(!read_file(part).empty(), read_file(log));
    p.signal(SIGTERM);
    auto status = p.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    const auto out = read_file(log);
    BOOST_TEST(*status == 4, out);
    BOOST_TEST(std::filesystem::is_empty(out_dir), "no partial or .part file may be left");
    const auto last_led = out.rfind("sim: LED1 ");
    BOOST_REQUIRE(last_led != std::string::npos);
    BOOST_TEST(out.compare(last_led, 13, "sim: LED1 off") == 0, out);
    BOOST_TEST(out.find("download failed") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(unresolvable_host_fails_with_a_clean_message) {
    // Without a reachable DNS server the resolver may not answer at all: then its deadline names it.
    auto r = run_multi_fetch({"--now", "--connect-timeout", "3", "https://nothing.invalid/"});
    BOOST_TEST(r.status == 1, r.output);
    BOOST_TEST((r.output.find("nothing.invalid:443: could not resolve host name") != std::string::npos ||
                r.output.find("nothing.invalid:443: timed out resolving the host name") != std::string::npos),
               r.output);
    BOOST_TEST(r.output.find("Summary: 1 transfers, 1 failed, 0 bytes") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_SUITE_END()
