#pragma once

// --demo's endpoint as a child process: the apps start edgeloop-demo-server (apps/demo_server), which runs
// edgeloop::devserver, instead of linking the server (more than half of each static program; README,
// "Footprint"). This class has the methods of devserver::server that the apps use.

#include "common/demo_protocol.hpp"

#include <edgeloop/aws/signing_credentials.hpp>
#include <edgeloop/devserver/received_publish.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace app_common {

/// Exit status of both apps when --demo's server cannot be found or started.
inline constexpr int exit_demo_server = 9;

/// The fields of devserver::options that the apps set.
struct demo_server_options {
    bool require_client_certificate = false;
    std::vector<std::string> alpn;
    /// Given to the child over its stdin, never on its command line (which ps shows); the access key id,
    /// which identifies and does not authenticate, is on the command line.
    std::optional<edgeloop::aws::signing_credentials> sigv4_credentials;
    std::string sigv4_region = "us-east-1";
    std::string credentials_role_alias;
};

/// The helper could not be found, did not start, or broke off the conversation: the message names the
/// program's path and what happened.
class demo_server_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// edgeloop-demo-server running as a child of this process, started by the constructor (posix_spawn, no
/// shell) and told to end by stop() or the destructor; it also ends when this process dies, even by
/// SIGKILL (its stdin ends; on Linux also PR_SET_PDEATHSIG), so it is never left behind. It runs in a
/// process group of its own: a Ctrl-C in the terminal reaches the app, which then stops it.
///
/// The program is, in this order: $EDGELOOP_DEMO_SERVER if set (nothing else is tried then); the
/// edgeloop-demo-server next to the running program (/proc/self/exe; in a build tree, the link the build
/// puts there); the installed one relative to the program (<bindir>/../<libexecdir>/edgeloop/, for an
/// install moved elsewhere), then at its absolute installed path (EDGELOOP_DEMO_SERVER_INSTALLED).
///
/// The constructor and issue_client_certificate_pem() wait for the child's answer (at most `timeout`)
/// before the loop runs; from the first turn of the loop on, the child's lines (the publishes it received)
/// are read on the loop without blocking it, until the child closes its end.
class demo_server_process {
public:
    /// Starts the child and waits for it to listen. Throws demo_server_error.
    demo_server_process(boost::asio::any_io_executor ex, const demo_server_options& opts = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
    demo_server_process(const demo_server_process&) = delete;
    demo_server_process& operator=(const demo_server_process&) = delete;
    /// stop(), then waits for the child (killing it if it has not ended within a few seconds).
    ~demo_server_process();

    std::uint16_t port() const noexcept;
    /// "https://127.0.0.1:<port><path>".
    std::string url(std::string_view path) const;
    /// The PEM file of the CA that signed the server's certificate (in the child's temporary directory,
    /// removed when it ends).
    const std::string& ca_file() const noexcept;
    /// {certificate PEM, private key PEM} signed by the server's CA, handed over the pipe in memory: nothing
    /// is written to disk. Only before the loop runs (it waits for the answer). Throws demo_server_error.
    std::pair<std::string, std::string> issue_client_certificate_pem();
    /// The most recent publish the server accepted (each is sent to us before it is answered, so after a
    /// publish's answer came, it is here once the loop stopped); none before the first. Decoded here, in
    /// the header, so that a program that never asks (multi_fetch) does not link the decoder (and with
    /// it edgeloop's AWS publish code, for base64).
    std::optional<edgeloop::devserver::received_publish> last_publish() {
        const auto line = last_publish_line();
        return line ? demo_protocol::publish_from_json(*line) : std::nullopt;
    }
    /// The same as its protocol line.
    std::optional<boost::json::object> last_publish_line();
    /// Ends the child's stdin: it stops its server and exits; the loop keeps reading its last lines until
    /// it has closed its end. Idempotent.
    void stop();

    /// The child's process id (tests).
    int pid() const noexcept;
    /// The program that was started.
    const std::string& program() const noexcept;

    struct state;

private:
    std::shared_ptr<state> state_;
};

} // namespace app_common
