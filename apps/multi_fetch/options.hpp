#pragma once

#include "common/cli.hpp"
#include "common/connect_cli.hpp"
#include "common/proxy_cli.hpp"

#include <edgeloop/boards/cli_options.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace multi_fetch {

/// Exit statuses, documented in --help and README.md.
enum exit_status : int {
    exit_ok = 0,          ///< every transfer completed (and, with --fail, got a 2xx)
    exit_transfer = 1,    ///< at least one transfer failed
    exit_usage = 2,       ///< bad command line
    exit_config = 3,      ///< bad TLS configuration (certificate, key or CA files)
    exit_interrupted = 4, ///< SIGINT/SIGTERM while a batch ran or before any
    exit_board = 5        ///< bad --board, --button or --led, or the GPIO device cannot be used
};

/// One -d/--data, --data-ascii, --data-binary, --data-raw or --json argument, in command-line order.
struct data_arg {
    enum class kind { ascii, binary, raw, json };
    kind how = kind::ascii;
    std::string value; ///< as given: "@file" and "@-" are read when the request is sent
};

/// Where one URL's body goes: -o FILE or -O (the URL's file name); paired with the URLs in order.
struct output_arg {
    bool remote_name = false; ///< -O
    std::string path;         ///< -o FILE ("-": stdout)
};

struct options {
    std::vector<std::string> urls;
    std::vector<output_arg> outputs; ///< the nth for the nth URL (command line, then -K files)
    std::vector<std::string> sha256; ///< --sha256: the nth for the nth URL, as outputs (64 hex digits)
    bool create_dirs = false;        ///< --create-dirs
    bool no_clobber = false;         ///< --no-clobber
    bool remove_on_error = false;    ///< --remove-on-error (what multi_fetch always does)
    std::string write_out;           ///< -w FORMAT ("@FILE": read at start-up)
    bool json_lines = false;
    bool silent = false;         ///< -s: no progress, no human lines
    bool show_error = false;     ///< -S: with -s, the failure lines still
    bool include = false;        ///< -i: the response head before the body
    bool head = false;           ///< -I: HEAD, and the head shown
    std::string dump_header;     ///< -D FILE ("-": stdout): every response head
    bool fail_with_body = false; ///< --fail-with-body: --fail, the body kept         ///< --json-lines: one
                                 ///< JSON object per transfer on stdout
    // The request (curl's names and meanings; read and checked by request_plan).
    std::vector<std::string> headers;      ///< -H values in order ("@file" kept as given)
    std::optional<std::string> user_agent; ///< -A
    std::optional<std::string> referer;    ///< -e
    std::optional<std::string> method;     ///< -X
    std::vector<data_arg> data;            ///< -d, --data-*, --json
    std::string upload_file;               ///< -T ("-": stdin)
    bool get = false;                      ///< -G: the data goes into the URL's query
    std::uint64_t limit_rate = 0;          ///< --limit-rate: bytes per second per transfer (0: none)
    std::uint64_t limit_rate_total = 0;    ///< --limit-rate-total: for all transfers together
    // Authentication.
    std::optional<std::string> user;   ///< -u USER[:PASSWORD] (no password: asked on the terminal)
    std::optional<std::string> bearer; ///< --oauth2-bearer
    std::string netrc_file;            ///< --netrc-file
    bool location_trusted = false;     ///< --location-trusted: credentials to every host redirected to
    bool now = false;
    bool demo = false;
    std::string cacert;
    std::string capath;
    std::string cert;
    std::string key;
    std::string pass;
    std::string pin_file; ///< PIN of a pkcs11: --key
    bool insecure = false;
    std::optional<std::chrono::milliseconds> connect_timeout;
    std::optional<std::chrono::milliseconds> max_time;
    // Resume and retries (curl's -C -, --retry, --retry-delay, --retry-max-time, --retry-all-errors).
    bool continue_at = false; ///< -C -: resume into an existing ".part" file of --output-dir/-o/-O
    std::uint32_t retry = 0;
    std::optional<std::chrono::milliseconds> retry_delay;
    std::optional<std::chrono::milliseconds> retry_max_time;
    bool retry_all_errors = false;
    bool fail = false;
    int verbose = 0;
    bool quiet = false;
    bool help = false;
    std::size_t max_total = 0;    ///< 0: no limit
    std::size_t max_per_host = 0; ///< 0: no limit
    std::string output_dir;
    std::vector<std::string> allow;
    app_common::proxy_cli proxy;             ///< -x/--proxy, --proxy-user, --noproxy
    app_common::connect_cli connect_cli;     ///< --resolve, --connect-to, -4, -6, --happy-eyeballs-timeout-ms
    edgeloop::http::connect_options connect; ///< from connect_cli, checked
    bool follow = true;
    unsigned max_redirs = 10;
    bool session_cache = true;
    // Downloads (conditions.cpp): curl's --compressed, --etag-save, --etag-compare, -z, --max-filesize.
    bool compressed = false;
    std::string etag_save;
    std::string etag_compare;
    std::string time_cond; ///< -z DATE|FILE, "-" first: If-Unmodified-Since
    std::optional<std::uint64_t> max_filesize;
    std::vector<std::string> url_files;  ///< read lazily while the transfers run; "-" is stdin
    edgeloop::boards::cli_options board; ///< --board, --button, --led, --sim-fifo, --sim-press-after
};

using app_common::usage_error;

/// Parses the command line; throws usage_error with a message naming the option at fault.
options parse_options(int argc, const char* const argv[]);

/// The --help text.
std::string help_text();

/// One line of a -K file: nullopt for a blank or comment line. A bare URL (an old-style list line) has
/// name "url". Throws usage_error "--url-file FILE:LINE: ..." for a malformed line or an option a -K
/// file cannot carry.
struct config_line {
    std::string name; ///< the long option name: url, output, remote-name, header, data, data-binary, ...
    std::string value;
    bool bare = false;  ///< a line that is just a URL: it takes no lines after it, so it starts at once
    std::string sha256; ///< a bare URL line's "sha256=HEX" after the URL
};

/// curl's --limit-rate RATE: bytes per second, with an optional suffix k/K, m/M, g/G (1024 multiples) or
/// b/B; nullopt when malformed or too large.
std::optional<std::uint64_t> parse_rate(std::string_view text);

/// True when `hex` is a SHA-256 digest in hex (64 hexadecimal digits, either case).
bool is_sha256_hex(std::string_view hex);
std::optional<config_line> parse_config_line(const std::string& path, std::size_t number,
                                             std::string_view line);

/// The two URLs of the Azure Sphere sample.
std::vector<std::string> default_urls();

} // namespace multi_fetch
