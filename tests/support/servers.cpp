#include <support/servers.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <thread>

namespace edgeloop::test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int start_attempts = 3;
constexpr auto start_timeout = 10s;

/// 'text' for /bin/sh.
std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'') {
            out += "'\\''";
        } else {
            out += c;
        }
    }
    return out + "'";
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
        throw std::runtime_error("cannot write " + path);
    }
}

void make_world_readable(const std::string& path, bool directory) {
    fs::permissions(path, directory ? fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                          fs::perms::others_read | fs::perms::others_exec
                                    : fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                          fs::perms::others_read);
}

bool keep_temp_dirs() {
    const char* keep = std::getenv("EDGELOOP_TEST_KEEP_TMP");
    return keep != nullptr && *keep != '\0' && std::string_view(keep) != "0";
}

void remove_temp_dir(const std::string& dir) noexcept {
    if (!dir.empty() && !keep_temp_dirs()) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
}

/// A path in double quotes, for nginx.conf.
std::string quoted(const std::string& path) {
    return '"' + path + '"';
}

std::string nginx_conf(const std::string& dir, const std::string& docroot, std::uint16_t http_port,
                       std::uint16_t https_port, std::uint16_t mtls_port, const std::string& extra) {
    const std::string topics = R"(
        location /topics/ {
            default_type application/json;
            return 200 '{"message":"OK","traceId":"00000000-0000-4000-8000-000000000000"}';
        }
        location /uploads/ {
            dav_methods PUT;
            client_max_body_size 0;
        }
)";
    const std::string tls = "        ssl_certificate " + quoted(pki::path("server.crt")) +
                            ";\n"
                            "        ssl_certificate_key " +
                            quoted(pki::path("server.key")) +
                            ";\n"
                            "        ssl_protocols TLSv1.2 TLSv1.3;\n"
                            "        ssl_session_cache shared:SSL:1m;\n";
    const std::string root = "        root " + quoted(docroot) + ";\n";
    const auto listen = [](std::uint16_t port, bool ssl) {
        return "        listen 127.0.0.1:" + std::to_string(port) + (ssl ? " ssl" : "") + ";\n";
    };

    std::string conf;
    conf += "daemon off;\n";
    conf += "master_process on;\n";
    conf += "worker_processes 1;\n";
    conf += "pid " + quoted(dir + "/nginx.pid") + ";\n";
    conf += "error_log " + quoted(dir + "/error.log") + " info;\n";
    conf += "events {\n    worker_connections 256;\n}\n";
    conf += "http {\n";
    conf += "    log_format edgeloop '$status $ssl_session_reused $connection $request';\n";
    conf += "    access_log " + quoted(dir + "/access.log") + " edgeloop;\n";
    // Body bytes sent and the Range asked, per request (resume tests count what was sent again).
    conf += "    log_format edgeloop_bytes '$status $body_bytes_sent \"$http_range\" $request';\n";
    conf += "    access_log " + quoted(dir + "/bytes.log") + " edgeloop_bytes;\n";
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        conf += "    " + std::string(temp) + "_temp_path " + quoted(dir + "/" + temp + "_temp") + ";\n";
    }
    conf += "    types {\n        text/plain txt;\n        application/octet-stream bin;\n    }\n";
    conf += "    default_type application/octet-stream;\n";
    conf += "    keepalive_requests 100000;\n";
    conf += extra + "\n";
    conf += "    server {\n" + listen(http_port, false) + root + topics + "    }\n";
    conf += "    server {\n" + listen(https_port, true) + root + tls + topics + "    }\n";
    conf += "    server {\n" + listen(mtls_port, true) + root + tls + "        ssl_client_certificate " +
            quoted(pki::path("ca.crt")) + ";\n        ssl_verify_client on;\n" + topics + "    }\n";
    conf += "}\n";
    return conf;
}

} // namespace

// --- pki ------------------------------------------------------------------------------------------------

const std::string& softhsm::dir() {
    static const std::string dir = [] {
        const std::string d = make_temp_dir("edgeloop-softhsm-");
        const std::string command = shell_quote(EDGELOOP_SOFTHSM_SCRIPT) + " " + shell_quote(d) + " " +
                                    shell_quote(pki::dir()) + " 1>&2";
        const int status = std::system(command.c_str());
        if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            throw std::runtime_error("softhsm: " + command + " failed");
        ::setenv("SOFTHSM2_CONF", (d + "/softhsm2.conf").c_str(), 1);
        static const struct remover {
            std::string path;
            ~remover() {
                if (!std::getenv("EDGELOOP_TEST_KEEP_TMP")) {
                    std::error_code ec;
                    fs::remove_all(path, ec);
                }
            }
        } remove_at_exit{d};
        return d;
    }();
    return dir;
}

std::string softhsm::env() {
    return "SOFTHSM2_CONF=" + dir() + "/softhsm2.conf";
}

std::string softhsm::uri(std::string_view object, std::string_view type, std::string_view token) {
    dir();
    return "pkcs11:token=" + std::string(token) + ";object=" + std::string(object) +
           ";type=" + std::string(type) + "?module-path=/usr/lib/softhsm/libsofthsm2.so";
}

const std::string& pki::dir() {
    // A throwing initializer is retried on the next call.
    static const std::string dir = [] {
        std::string d;
        if (const char* env = std::getenv("EDGELOOP_PKI_DIR"); env != nullptr && *env != '\0') {
            d = env;
        } else {
#ifdef EDGELOOP_PKI_DIR
            d = EDGELOOP_PKI_DIR;
#else
            throw std::runtime_error("pki: set EDGELOOP_PKI_DIR");
#endif
        }
#ifdef EDGELOOP_PKI_SCRIPT
        const std::string script = EDGELOOP_PKI_SCRIPT;
        std::error_code ec;
        const auto complete = fs::path(d) / ".complete";
        // Missing, or older than the script (which checks the same and then regenerates).
        bool fresh = fs::exists(complete, ec);
        if (fresh && fs::exists(script, ec)) {
            fresh = fs::last_write_time(complete, ec) > fs::last_write_time(script, ec);
        }
        if (!fresh) {
            const std::string command = shell_quote(script) + " " + shell_quote(d) + " 1>&2";
            const int status = std::system(command.c_str());
            if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                throw std::runtime_error("pki: " + command + " failed (status " + std::to_string(status) +
                                         ")");
            }
        }
#endif
        if (!fs::exists(fs::path(d) / ".complete")) {
            throw std::runtime_error("pki: no PKI in " + d + " (run tests/pki/generate.sh " + d + ")");
        }
        return d;
    }();
    return dir;
}

std::string pki::path(std::string_view file) {
    return dir() + "/" + std::string(file);
}

// --- nginx_server -----------------------------------------------------------------------------------------

std::string test_bytes(std::size_t n) {
    std::string bytes(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        bytes[i] = static_cast<char>(i % 251);
    }
    return bytes;
}

nginx_server::nginx_server(std::string http_directives) {
    pki::dir(); // generates the PKI when needed; throws before anything is created
    dir_ = make_temp_dir("edgeloop-nginx-");
    try {
        // nginx workers run as nobody: the docroot must be readable by everybody.
        make_world_readable(dir_, true);
        docroot_ = dir_ + "/docroot";
        fs::create_directory(docroot_);
        make_world_readable(docroot_, true);
        write_file(docroot_ + "/hello.txt", "hello from nginx\n");
        // PUT /uploads/NAME stores the body there (the worker, nobody, writes it).
        fs::create_directory(docroot_ + "/uploads");
        fs::permissions(docroot_ + "/uploads", fs::perms::all);
        write_file(docroot_ + "/1k.bin", test_bytes(1024));
        write_file(docroot_ + "/100k.bin", test_bytes(102400));
        for (const char* file : {"hello.txt", "1k.bin", "100k.bin"}) {
            make_world_readable(docroot_ + "/" + file, false);
        }

        const std::string conf = dir_ + "/nginx.conf";
        const std::string error_log_file = dir_ + "/error.log";
        std::string failures;
        for (int attempt = 1; attempt <= start_attempts; ++attempt) {
            const auto ports = free_ports(3);
            http_port_ = ports[0];
            https_port_ = ports[1];
            mtls_port_ = ports[2];
            write_file(conf,
                       nginx_conf(dir_, docroot_, http_port_, https_port_, mtls_port_, http_directives));
            fs::remove(dir_ + "/nginx.pid");

            proc_ = child_process({"nginx", "-p", dir_ + "/", "-c", conf, "-e", error_log_file},
                                  dir_ + "/nginx.out");
            const auto deadline = std::chrono::steady_clock::now() + start_timeout;
            bool up = false;
            while (proc_.running() && std::chrono::steady_clock::now() < deadline) {
                // The pid file is written once every listening socket is open.
                if (is_listening(http_port_) && is_listening(https_port_) && is_listening(mtls_port_) &&
                    !read_file(dir_ + "/nginx.pid").empty()) {
                    up = proc_.running();
                    break;
                }
                std::this_thread::sleep_for(20ms);
            }
            if (up) {
                return;
            }
            const bool exited = !proc_.running();
            proc_.stop();
            failures += "attempt " + std::to_string(attempt) + ": nginx " +
                        (exited ? "exited early" : "did not listen within 10 s") + "\n";
            if (!exited) {
                break;
            }
        }
        throw std::runtime_error("nginx_server: nginx did not start in " + dir_ + "\n" + failures +
                                 "--- error.log:\n" + read_file(error_log_file) + "--- nginx.out:\n" +
                                 read_file(dir_ + "/nginx.out"));
    } catch (...) {
        proc_.stop();
        remove_temp_dir(dir_);
        throw;
    }
}

nginx_server::~nginx_server() {
    proc_.stop();
    remove_temp_dir(dir_);
}

std::string nginx_server::access_log() const {
    return read_file(dir_ + "/access.log");
}

std::string nginx_server::wait_for_access_log(std::size_t lines, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto log = access_log();
        if (static_cast<std::size_t>(std::count(log.begin(), log.end(), '\n')) >= lines ||
            std::chrono::steady_clock::now() >= deadline) {
            return log;
        }
        std::this_thread::sleep_for(10ms);
    }
}

std::string nginx_server::bytes_log() const {
    return read_file(dir_ + "/bytes.log");
}

std::string nginx_server::error_log() const {
    return read_file(dir_ + "/error.log");
}

// --- openssl_server
// -----------------------------------------------------------------------------------------

openssl_server::openssl_server(options opts) {
    const std::string cert = pki::path(opts.cert + ".crt");
    const std::string key = pki::path(opts.cert + ".key");
    const std::string dir = make_temp_dir("edgeloop-s_server-");
    log_ = dir + "/s_server.log";
    try {
        std::string failures;
        for (int attempt = 1; attempt <= start_attempts; ++attempt) {
            port_ = free_port();
            std::vector<std::string> argv;
            // s_server's stdout is a stdio stream, block-buffered into a file: make it line-buffered.
            if (::access("/usr/bin/stdbuf", X_OK) == 0) {
                argv = {"/usr/bin/stdbuf", "-oL", "-eL"};
            }
            argv.insert(argv.end(), {"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port_),
                                     "-cert", cert, "-key", key, "-www"});
            if (!opts.alpn.empty()) {
                std::string list;
                for (const auto& protocol : opts.alpn) {
                    list += (list.empty() ? "" : ",") + protocol;
                }
                argv.insert(argv.end(), {"-alpn", list});
            }
            if (opts.require_client_cert) {
                argv.insert(argv.end(), {"-Verify", "1", "-CAfile", pki::path("ca.crt")});
            }
            argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());

            proc_ = child_process(argv, log_);
            const auto deadline = std::chrono::steady_clock::now() + start_timeout;
            bool up = false;
            while (proc_.running() && std::chrono::steady_clock::now() < deadline) {
                if (is_listening(port_)) {
                    up = proc_.running();
                    break;
                }
                std::this_thread::sleep_for(20ms);
            }
            if (up) {
                return;
            }
            const bool exited = !proc_.running();
            proc_.stop();
            failures += "attempt " + std::to_string(attempt) + ": s_server " +
                        (exited ? "exited early" : "did not listen within 10 s") + "\n";
            if (!exited) {
                break;
            }
        }
        throw std::runtime_error("openssl_server: s_server did not start\n" + failures + "--- output:\n" +
                                 read_file(log_));
    } catch (...) {
        proc_.stop();
        remove_temp_dir(dir);
        throw;
    }
}

openssl_server::~openssl_server() {
    proc_.stop();
    remove_temp_dir(fs::path(log_).parent_path().string());
}

std::string openssl_server::output() const {
    return read_file(log_);
}

} // namespace edgeloop::test
