#pragma once

#include "common/cli.hpp"

#include <edgeloop/boards/cli_options.hpp>

#include <chrono>
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
    exit_interrupted = 4, ///< stopped by SIGINT/SIGTERM while transfers ran (or before any)
    exit_board = 5        ///< bad --board, --button or --led, or the GPIO device cannot be used
};

struct options {
    std::vector<std::string> urls;
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
    bool fail = false;
    int verbose = 0;
    bool quiet = false;
    bool help = false;
    std::size_t max_total = 0;    ///< 0: no limit
    std::size_t max_per_host = 0; ///< 0: no limit
    std::string output_dir;
    std::vector<std::string> allow;
    bool follow = true;
    unsigned max_redirs = 10;
    bool session_cache = true;
    std::vector<std::string> url_files;  ///< read lazily while the transfers run; "-" is stdin
    edgeloop::boards::cli_options board; ///< --board, --button, --led, --sim-fifo, --sim-press-after
};

using app_common::usage_error;

/// Parses the command line; throws usage_error with a message naming the option at fault.
options parse_options(int argc, const char* const argv[]);

/// The --help text.
std::string help_text();

/// The URL of one line of a url-file (`path`, line `number`), or nullopt for a blank line or a comment.
/// Throws usage_error naming the file and line.
std::optional<std::string> parse_url_line(const std::string& path, std::size_t number, std::string_view line);

/// URLs from a file: one per line, or curl config lines `url = "..."`; blank lines and # comments
/// are skipped. Throws usage_error naming the file and line.
std::vector<std::string> read_url_file(const std::string& path);

/// The two URLs of the Azure Sphere sample.
std::vector<std::string> default_urls();

} // namespace multi_fetch
