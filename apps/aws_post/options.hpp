#pragma once

#include "common/cli.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace aws_post {

/// Exit statuses, documented in --help and README.md. 2, 3 and 4 mean what they mean for multi_fetch.
enum exit_status : int {
    exit_ok = 0,          ///< every publish was answered 2xx
    exit_http_status = 1, ///< a publish was answered with a status outside 2xx (after retries for 429/5xx)
    exit_usage = 2,       ///< bad command line
    exit_config = 3, ///< bad credentials or configuration (CA, certificate, key, passphrase, message file)
    exit_interrupted = 4, ///< stopped by SIGINT/SIGTERM before every publish was answered
    exit_connection = 5,  ///< connection retries exhausted, or a transfer error not worth retrying
    exit_tls = 6          ///< TLS handshake failed for a certificate reason (never retried)
};

struct options {
    std::string endpoint;
    std::uint16_t port = 8443;
    std::string cacert;
    std::string cert;
    std::string key;
    std::string pass;
    std::string pin_file; ///< PIN of a pkcs11: --key
    std::string topic = "topic";
    std::string message = R"({ "message": "Hello, world" })";
    std::string message_file;
    int qos = 1;
    bool retain = false;
    std::uint32_t count = 1;
    std::uint32_t attempts = 5; ///< tries per publish, the first included
    std::chrono::milliseconds backoff_base{500};
    std::chrono::milliseconds backoff_max{5000};
    std::optional<std::chrono::milliseconds> connect_timeout;
    std::optional<std::chrono::milliseconds> max_time;
    std::string sni;
    bool no_sni = false;
    bool demo = false;
    bool wait_for_clock = false; ///< retry "system clock not set" handshake failures
    int verbose = 0;
    bool help = false;
};

using app_common::usage_error;

/// Parses the command line; throws usage_error with a message naming the option at fault.
options parse_options(int argc, const char* const argv[]);

/// The --help text.
std::string help_text();

} // namespace aws_post
