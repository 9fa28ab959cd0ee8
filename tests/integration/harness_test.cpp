// Self-check of the test harness: PKI, nginx, openssl s_server and child processes, driven with curl.

#include <support/process.hpp>
#include <support/servers.hpp>

#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace edgeloop::test;

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    }
    return out + "'";
}

struct command_result {
    int status = -1;
    std::string output;
};

/// Runs a shell command and collects its stdout.
command_result run(const std::string& command) {
    command_result result;
    FILE* pipe = ::popen(command.c_str(), "r");
    BOOST_TEST_REQUIRE(pipe != nullptr, "popen " << command);
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        result.output.append(buffer.data(), n);
    }
    const int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

/// curl -s with the test CA; returns the body.
std::string curl_body(const std::string& url, const std::string& extra = {}) {
    auto result = run("curl -s --max-time 10 --cacert " + shell_quote(pki::path("ca.crt")) + " " + extra +
                      " " + shell_quote(url));
    BOOST_TEST(result.status == 0, "curl " << url << " exited with " << result.status);
    return result.output;
}

/// curl -s with the test CA; returns the HTTP status code ("000" when no response).
std::string curl_status(const std::string& url, const std::string& extra = {}) {
    return run("curl -s -o /dev/null -w '%{http_code}' --max-time 10 --cacert " +
               shell_quote(pki::path("ca.crt")) + " " + extra + " " + shell_quote(url))
        .output;
}

std::string https_url(std::uint16_t port, const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(port) + path;
}

/// The exit status, or -1000 when the process did not exit in time.
int exit_code(std::optional<int> status) {
    return status.value_or(-1000);
}

struct temp_dir {
    std::string path = make_temp_dir("edgeloop-harness-");
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(harness)

BOOST_AUTO_TEST_CASE(pki_has_every_file) {
    const std::vector<std::string> files = {
        "ca.crt",           "ca.key",         "server.crt",     "server.key",       "client.crt",
        "client.key",       "client-enc.key", "expired.crt",    "expired.key",      "notyet.crt",
        "notyet.key",       "wronghost.crt",  "wronghost.key",  "untrusted-ca.crt", "untrusted-ca.key",
        "untrusted.crt",    "untrusted.key",  "selfsigned.crt", "selfsigned.key",   "ca-chain.crt",
        "server-chain.crt", ".complete"};
    for (const auto& file : files) {
        const auto path = pki::path(file);
        BOOST_TEST(fs::is_regular_file(path), path);
        if (file != ".complete") {
            BOOST_TEST(fs::file_size(path) > 0u, path);
        }
    }
    const auto verify = run("openssl verify -CAfile " + shell_quote(pki::path("ca.crt")) + " " +
                            shell_quote(pki::path("server.crt")) + " 2>&1");
    BOOST_TEST(verify.status == 0, verify.output);
    const auto expired = run("openssl verify -CAfile " + shell_quote(pki::path("ca.crt")) + " " +
                             shell_quote(pki::path("expired.crt")) + " 2>&1");
    BOOST_TEST(expired.status != 0);
    BOOST_TEST(expired.output.find("certificate has expired") != std::string::npos, expired.output);
}

BOOST_AUTO_TEST_CASE(nginx_serves_http_and_https) {
    nginx_server nginx;
    BOOST_TEST(nginx.http_port() != nginx.https_port());
    BOOST_TEST(nginx.https_port() != nginx.mtls_port());
    BOOST_TEST(nginx.http_port() != nginx.mtls_port());

    BOOST_TEST(curl_body(https_url(nginx.https_port(), "/hello.txt")) == "hello from nginx\n");
    BOOST_TEST(curl_body("http://127.0.0.1:" + std::to_string(nginx.http_port()) + "/1k.bin") ==
               test_bytes(1024));
    BOOST_TEST(curl_body(https_url(nginx.https_port(), "/100k.bin")) == test_bytes(102400));
    const auto topics = curl_body(https_url(nginx.https_port(), "/topics/abc"));
    BOOST_TEST(topics == R"({"message":"OK","traceId":"00000000-0000-4000-8000-000000000000"})");
    BOOST_TEST(curl_status(https_url(nginx.https_port(), "/missing")) == "404");

    const auto log = nginx.wait_for_access_log(5, 5s);
    BOOST_TEST(log.find("200 . ") != std::string::npos, log);
    BOOST_TEST(log.find("GET /hello.txt HTTP/1.1") != std::string::npos, log);
    BOOST_TEST(log.find("404 . ") != std::string::npos, log);
}

BOOST_AUTO_TEST_CASE(nginx_mtls_requires_a_client_certificate) {
    nginx_server nginx;
    const auto url = https_url(nginx.mtls_port(), "/hello.txt");
    BOOST_TEST(curl_status(url) == "400");
    const auto with_cert =
        "--cert " + shell_quote(pki::path("client.crt")) + " --key " + shell_quote(pki::path("client.key"));
    BOOST_TEST(curl_status(url, with_cert) == "200");
    BOOST_TEST(curl_body(url, with_cert) == "hello from nginx\n");
    const auto with_encrypted_key = "--cert " + shell_quote(pki::path("client.crt")) + " --key " +
                                    shell_quote(pki::path("client-enc.key")) + " --pass edgeloop-test";
    BOOST_TEST(curl_status(url, with_encrypted_key) == "200");
}

BOOST_AUTO_TEST_CASE(nginx_stops_with_the_object) {
    int pid = 0;
    std::string dir;
    {
        nginx_server nginx;
        dir = nginx.dir();
        pid = std::stoi(read_file(dir + "/nginx.pid"));
        BOOST_TEST(::kill(pid, 0) == 0);
    }
    BOOST_TEST(::kill(pid, 0) != 0);
    BOOST_TEST(!fs::exists(dir));
}

BOOST_AUTO_TEST_CASE(openssl_server_answers) {
    openssl_server server({});
    BOOST_TEST(server.port() != 0);
    BOOST_TEST(curl_status(https_url(server.port(), "/")) == "200");
}

BOOST_AUTO_TEST_CASE(openssl_server_requires_a_client_certificate) {
    openssl_server::options opts;
    opts.require_client_cert = true;
    openssl_server server(std::move(opts));
    BOOST_TEST(curl_status(https_url(server.port(), "/")) == "000");
    const auto with_cert =
        "--cert " + shell_quote(pki::path("client.crt")) + " --key " + shell_quote(pki::path("client.key"));
    BOOST_TEST(curl_status(https_url(server.port(), "/"), with_cert) == "200");
}

BOOST_AUTO_TEST_CASE(child_process_reports_the_exit_status) {
    temp_dir tmp;
    child_process exit3({"sh", "-c", "exit 3"}, tmp.path + "/exit3.log");
    BOOST_TEST(exit_code(exit3.wait_for_exit(5s)) == 3);
    BOOST_TEST(!exit3.running());

    child_process sleeper({"sleep", "30"}, tmp.path + "/sleep.log");
    BOOST_TEST(sleeper.running());
    BOOST_TEST(!sleeper.wait_for_exit(50ms).has_value());
    sleeper.signal(SIGKILL);
    BOOST_TEST(exit_code(sleeper.wait_for_exit(5s)) == 128 + SIGKILL);
}

BOOST_AUTO_TEST_CASE(child_process_logs_output_and_environment) {
    temp_dir tmp;
    const auto log = tmp.path + "/child.log";
    child_process child({"sh", "-c", "echo out=$EDGELOOP_HARNESS; echo err >&2"}, log,
                        {"EDGELOOP_HARNESS=42"});
    BOOST_TEST(exit_code(child.wait_for_exit(5s)) == 0);
    BOOST_TEST(read_file(log) == "out=42\nerr\n");
}

BOOST_AUTO_TEST_CASE(child_process_inherits_no_descriptors) {
    temp_dir tmp;
    const int sock = ::socket(AF_INET, SOCK_STREAM, 0); // not close-on-exec
    BOOST_TEST_REQUIRE(sock >= 0);
    const int before = count_open_fds();
    {
        // The constructor returns once the exec has happened: the descriptors are the program's.
        child_process child({"sleep", "30"}, tmp.path + "/fds.log");
        // The program's own loader may briefly hold files of its own (ld.so.cache, libc): what must never
        // be there is one of ours, such as the socket above.
        for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(child.pid()) + "/fd")) {
            std::error_code ec;
            const auto target = fs::read_symlink(entry.path(), ec).string();
            BOOST_TEST(target.rfind("socket:", 0) != 0u, "inherited " << target);
        }
        BOOST_TEST(fs::read_symlink("/proc/" + std::to_string(child.pid()) + "/fd/0") == "/dev/null");
    }
    BOOST_TEST(count_open_fds() == before);
    ::close(sock);
}

BOOST_AUTO_TEST_CASE(child_process_fails_to_start_a_missing_program) {
    temp_dir tmp;
    BOOST_CHECK_THROW(child_process({"/nonexistent/edgeloop-program"}, tmp.path + "/missing.log"),
                      std::system_error);
}

BOOST_AUTO_TEST_CASE(child_process_stop_kills_a_process_ignoring_sigterm) {
    temp_dir tmp;
    // The shell says when its trap is in place (what it runs inherits the ignored SIGTERM).
    child_process child({"sh", "-c", "trap '' TERM; echo trapped; while :; do sleep 0.1; done"},
                        tmp.path + "/stop.log");
    BOOST_REQUIRE_MESSAGE(wait_for_text(tmp.path + "/stop.log", "trapped\n", 10s),
                          "the shell never installed its trap");
    child.stop();
    BOOST_TEST(!child.running());
    // SIGTERM was ignored: what ended it is the SIGKILL that follows the grace period.
    const auto status = child.wait_for_exit(0ms);
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(*status == 128 + SIGKILL);
}

BOOST_AUTO_TEST_CASE(free_ports_are_distinct_and_bindable) {
    const auto ports = free_ports(3);
    BOOST_TEST(ports.size() == 3u);
    BOOST_TEST(ports[0] != ports[1]);
    BOOST_TEST(ports[1] != ports[2]);
    BOOST_TEST(ports[0] != ports[2]);
    BOOST_TEST(!is_listening(ports[0]));
    BOOST_TEST(!wait_for_port(free_port(), 50ms));
}

BOOST_AUTO_TEST_SUITE_END()
