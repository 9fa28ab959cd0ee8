// --demo's server as a child process (edgeloop-demo-server, apps/common/demo_server_process.hpp), seen
// from the outside: the apps run as a user runs them, the helper found, missing or broken, the parent
// killed, the issued key kept off the disk, the decoded publish carried back over the pipe.
#include <support/app_run.hpp>
#include <support/process.hpp>

#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

using namespace edgeloop::test;
using namespace std::chrono_literals;

namespace {

constexpr int exit_demo_server = 9; // apps/common/demo_server_process.hpp

bool contains(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

/// The state letter of /proc/<pid>/stat and the parent pid; none when there is no such process.
std::optional<std::pair<char, int>> proc_state(int pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat))
        return std::nullopt;
    const auto close = stat.rfind(')'); // the command name may hold spaces and parentheses
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream rest(stat.substr(close + 1));
    char state = '?';
    int ppid = 0;
    rest >> state >> ppid;
    return std::pair{state, ppid};
}

/// The pids of the children of `parent` whose command is the helper's (truncated to 15 characters).
std::vector<int> helper_children_of(int parent) {
    std::vector<int> pids;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const auto name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const int pid = std::stoi(name);
        const auto st = proc_state(pid);
        std::ifstream comm(e.path() / "comm");
        std::string command;
        std::getline(comm, command);
        if (st && st->second == parent && command == std::string("edgeloop-demo-server").substr(0, 15))
            pids.push_back(pid);
    }
    return pids;
}

/// Every regular file under dir (recursively), as paths.
std::vector<std::string> files_under(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            out.push_back(e.path().string());
    return out;
}

/// True once `done()` holds, checked every 20 ms, false if it does not within `limit`.
template <class Predicate>
bool wait_until(Predicate done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

/// True once `pid` has ended (gone, or a zombie its new parent has not reaped yet), within `limit`. Polled:
/// the helper is the app's child, not ours, so there is nothing to wait on.
bool ended_within(int pid, std::chrono::milliseconds limit) {
    return wait_until(
        [&] {
            const auto st = proc_state(pid);
            return !st || st->first == 'Z' || st->first == 'X';
        },
        limit);
}

/// Kills the app with SIGKILL while its demo server runs, then checks that the helper ends too and
/// removes its temporary directory (the CA certificate), as after a normal stop.
void check_helper_outlives_no_sigkilled_app(std::vector<std::string> argv) {
    const std::string dir = make_temp_dir("demo_server_kill");
    const std::string tmp = dir + "/tmp";
    std::filesystem::create_directory(tmp);
    child_process app(std::move(argv), dir + "/out.log", {"TMPDIR=" + tmp});
    // Up: the helper is the app's child and has written its CA certificate (the apps' stdout is a file
    // here, so fully buffered: their lines show only at exit).
    std::vector<int> helpers;
    BOOST_REQUIRE_MESSAGE(wait_until(
                              [&] {
                                  helpers = helper_children_of(app.pid());
                                  return helpers.size() == 1u && files_under(tmp).size() == 1u;
                              },
                              30s),
                          "no helper with its CA certificate; output:\n"
                              << read_file(dir + "/out.log"));
    const int helper = helpers.front();

    app.signal(SIGKILL);
    const auto status = app.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 128 + SIGKILL);
    // A generous bound: the helper sees its stdin end at once (and gets SIGTERM from PR_SET_PDEATHSIG).
    BOOST_TEST_REQUIRE(ended_within(helper, 20s),
                       "helper pid " << helper << " still runs after its parent was killed");
    if (!ended_within(helper, 0ms))
        ::kill(helper, SIGKILL);
    BOOST_TEST(files_under(tmp).empty(), "left behind in TMPDIR: " << files_under(tmp).size() << " files");
}

} // namespace

BOOST_AUTO_TEST_SUITE(demo_server_process)

BOOST_AUTO_TEST_CASE(a_missing_helper_is_a_named_error_with_its_own_exit_status) {
    const std::string missing = "EDGELOOP_DEMO_SERVER=/nonexistent/edgeloop-demo-server";
    const auto post = run_app(AWS_POST_BIN, {"--demo"}, "demo_missing", 30s, {missing});
    BOOST_TEST(post.status == exit_demo_server, post.output);
    BOOST_TEST(contains(post.output,
                        "aws_post: --demo: cannot start the demo server: "
                        "EDGELOOP_DEMO_SERVER=/nonexistent/edgeloop-demo-server: No such file or directory"),
               post.output);
    BOOST_TEST(!contains(post.output, "Demo completed"), post.output);
    const auto fetch = run_app(MULTI_FETCH_BIN, {"--demo", "--now"}, "demo_missing", 30s, {missing});
    BOOST_TEST(fetch.status == exit_demo_server, fetch.output);
    BOOST_TEST(contains(fetch.output, "multi_fetch: --demo: cannot start the demo server: "
                                      "EDGELOOP_DEMO_SERVER=/nonexistent/edgeloop-demo-server"),
               fetch.output);
}

BOOST_AUTO_TEST_CASE(a_helper_that_ends_before_it_is_ready_is_named_with_its_exit_status) {
    // /bin/false stands for a helper that fails at start-up (a broken install, a wrong architecture).
    const auto r = run_app(AWS_POST_BIN, {"--demo"}, "demo_broken", 30s, {"EDGELOOP_DEMO_SERVER=/bin/false"});
    BOOST_TEST(r.status == exit_demo_server, r.output);
    BOOST_TEST(contains(r.output, "aws_post: --demo: demo server /bin/false (pid "), r.output);
    BOOST_TEST(contains(r.output, "ended before it was ready: exited with status 1"), r.output);
}

BOOST_AUTO_TEST_CASE(the_helper_does_not_outlive_a_sigkilled_multi_fetch) {
    // Waiting for button A (a scheduled press ten minutes away): the demo server runs until the end.
    check_helper_outlives_no_sigkilled_app({MULTI_FETCH_BIN, "--demo", "--sim-press-after", "600000"});
}

BOOST_AUTO_TEST_CASE(the_helper_does_not_outlive_a_sigkilled_aws_post) {
    // Between two SigV4 publishes a minute apart (the helper got its secret key over its stdin).
    check_helper_outlives_no_sigkilled_app(
        {AWS_POST_BIN, "--demo", "--auth", "sigv4", "--count", "2", "--interval", "60000"});
}

BOOST_AUTO_TEST_CASE(a_helper_that_dies_is_reported_and_the_app_still_stops_cleanly) {
    const std::string dir = make_temp_dir("demo_server_dies");
    child_process app({MULTI_FETCH_BIN, "--demo", "--sim-press-after", "600000"}, dir + "/out.log");
    BOOST_REQUIRE_MESSAGE(wait_for_text(dir + "/out.log", "Press BUTTON_A", 30s),
                          read_file(dir + "/out.log"));
    const auto helpers = helper_children_of(app.pid());
    BOOST_REQUIRE(helpers.size() == 1u);
    ::kill(helpers.front(), SIGKILL);
    BOOST_REQUIRE_MESSAGE(wait_for_text(dir + "/out.log", "ended while the program still ran", 10s),
                          read_file(dir + "/out.log"));
    app.signal(SIGTERM);
    const auto status = app.wait_for_exit(10s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 4, read_file(dir + "/out.log")); // SIGTERM before any batch: interrupted
}

BOOST_AUTO_TEST_CASE(the_decoded_publish_comes_back_over_the_pipe_byte_for_byte) {
    // A UTF-8 topic and correlation data that is not UTF-8 (ff fe 01, "//4B" in base64): each byte survives
    // the JSON line from the helper.
    const auto r = run_app(AWS_POST_BIN,
                           {"--demo", "--topic", "sensors/temp\xC3\xA9rature", "--correlation-data",
                            "\xFF\xFE\x01", "--user-property", "k=v", "--message-expiry", "4294967295"},
                           "demo_publish");
    BOOST_TEST(r.status == 0, r.output);
    BOOST_TEST(contains(r.output,
                        "Demo endpoint received: {\"topic\":\"sensors/temp\xC3\xA9rature\",\"qos\":1,"
                        "\"retain\":false,\"payloadBytes\":29,\"messageExpiry\":4294967295,"
                        "\"userProperties\":[{\"k\":\"v\"}],\"correlationData\":\"//4B\"}"),
               r.output);
}

BOOST_AUTO_TEST_CASE(the_issued_client_key_is_never_written_to_disk) {
    // HOME, TMPDIR and the working directory fresh and empty; while the key is in use (the second of
    // three publishes sent on the kept-alive connection, logged on stderr by -vv) and after the run, no
    // key is in any of them.
    const std::string dir = make_temp_dir("demo_server_no_key");
    const std::string home = dir + "/home", tmp = dir + "/tmp", cwd = dir + "/cwd";
    for (const auto& d : {home, tmp, cwd})
        std::filesystem::create_directory(d);
    child_process app(
        {"/usr/bin/env", "-C", cwd, AWS_POST_BIN, "--demo", "-vv", "--count", "3", "--interval", "2000"},
        dir + "/out.log", {"HOME=" + home, "TMPDIR=" + tmp});
    BOOST_REQUIRE_MESSAGE(wait_for_text(dir + "/out.log", "(reused connection)", 30s),
                          read_file(dir + "/out.log"));
    std::vector<std::string> files;
    for (const auto& d : {home, tmp, cwd})
        for (auto& f : files_under(d))
            files.push_back(std::move(f));
    BOOST_REQUIRE(files.size() == 1u); // the CA certificate the client trusts
    BOOST_TEST(std::filesystem::path(files.front()).filename() == "ca.crt");
    BOOST_TEST(!contains(read_file(files.front()), "PRIVATE KEY"));
    const auto status = app.wait_for_exit(30s);
    BOOST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 0, read_file(dir + "/out.log"));
    BOOST_TEST(contains(read_file(dir + "/out.log"),
                        "Demo client certificate issued in memory (not written to disk)"));
    for (const auto& d : {home, tmp, cwd})
        BOOST_TEST(files_under(d).empty(), d << " is not empty after the run");
}

BOOST_AUTO_TEST_SUITE_END()
