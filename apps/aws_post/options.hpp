#pragma once

#include "common/cli.hpp"
#include "common/connect_cli.hpp"
#include "common/proxy_cli.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace aws_post {

/// Exit statuses, documented in --help and README.md. 2, 3 and 4 mean what they mean for multi_fetch.
enum exit_status : int {
    exit_ok = 0,          ///< every publish was answered 2xx
    exit_http_status = 1, ///< a publish was answered with a status outside 2xx (after retries for 429/5xx)
    exit_usage = 2,       ///< bad command line
    exit_config = 3, ///< bad credentials or configuration (CA, certificate, key, passphrase, message file)
    exit_interrupted = 4,      ///< stopped by SIGINT/SIGTERM before every publish was answered
    exit_connection = 5,       ///< connection retries exhausted, or a transfer error not worth retrying
    exit_tls = 6,              ///< TLS handshake failed for a certificate reason (never retried)
    exit_version_conflict = 7, ///< a shadow update named a version the shadow no longer has (409)
    exit_spool_input = 8 ///< --spool: input lines were refused (bad JSON or topic, spool full, disk full)
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
    std::chrono::milliseconds interval{0}; ///< --interval: pause between the --count publishes
    std::uint32_t attempts = 5;            ///< tries per publish, the first included
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
    app_common::proxy_cli proxy;             ///< -x/--proxy, --proxy-user, --noproxy
    app_common::connect_cli connect_cli;     ///< --resolve, --connect-to, -4, -6, --happy-eyeballs-timeout-ms
    edgeloop::http::connect_options connect; ///< from connect_cli, checked

    // MQTT 5 publish properties (empty / unset: not sent)
    std::string content_type; ///< --content-type: contentType
    std::string response_topic;
    std::optional<std::uint32_t> message_expiry;                      ///< seconds
    std::vector<std::pair<std::string, std::string>> user_properties; ///< --user-property K=V, in order
    std::string payload_format;                                       ///< "", "bytes" or "utf8"
    std::string correlation_data;

    // SigV4 (--auth sigv4): access keys from the environment, no client certificate, port 443 by default
    std::string auth = "mtls"; ///< "mtls" or "sigv4"
    std::string region;        ///< credential scope; default: from the endpoint name
    /// --role-alias / --credentials-endpoint HOST[:PORT]: temporary credentials from the AWS IoT
    /// credentials provider (mutual TLS with --cert/--key) instead of the environment's keys.
    std::string role_alias;
    std::string credentials_endpoint;
    std::uint16_t credentials_port = 443;

    // Device Shadow: `aws_post shadow get|update|delete|list --thing T [--name N]`
    std::string shadow_action; ///< empty: publish
    std::string thing;
    std::string shadow_name;
    std::optional<std::uint64_t> version; ///< --version: optimistic update

    // Store and forward (spool_mode.cpp): --spool PATH with --stdin JSON lines or --message/--count
    std::string spool;
    bool from_stdin = false;
    std::string listen;                ///< --listen unix:PATH: the socket's path
    std::uint64_t spool_max_bytes = 0; ///< --spool-max-mb; 0: no quota
    std::string spool_policy = "refuse";
    std::string spool_sync = "full";
    double max_rate = 0;                     ///< messages per second; 0: no limit
    std::optional<std::chrono::seconds> ttl; ///< --ttl
    bool spool_status = false;               ///< --status
    bool spool_dead_letters = false;         ///< --dead-letters
};

using app_common::usage_error;

/// Parses the command line; throws usage_error with a message naming the option at fault.
options parse_options(int argc, const char* const argv[]);

/// The --help text.
std::string help_text();

} // namespace aws_post
