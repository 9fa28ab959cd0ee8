#pragma once

// Command-line pieces both apps share.

#include <boost/program_options.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <string_view>

namespace app_common {

/// A bad command line; what() names the option at fault. Apps exit with their usage status on it.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A "--name SECONDS" value (fractions allowed) as milliseconds; positive and at most a year.
inline std::chrono::milliseconds seconds_option(const char* name, double value) {
    if (!std::isfinite(value) || value <= 0 || value > 86400.0 * 365)
        throw usage_error(std::string("--") + name + ": expected a positive number of seconds");
    return std::chrono::milliseconds(static_cast<long long>(std::llround(value * 1000)));
}

/// The message for a Boost.Program_options error. Boost 1.81 builds it by replacing "%option%",
/// "%value%", "%original_token%", ... in a template with the option's and value's text until none is
/// left, so an argument containing such a placeholder ("--x%value%") made what() loop forever, growing
/// the string (found by the options fuzz targets). Such an argument gets a message of our own instead.
template <typename ProgramOptionsError>
std::string error_message(const ProgramOptionsError& e, int argc, const char* const argv[]) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        for (auto open = arg.find('%'); open != std::string_view::npos; open = arg.find('%', open + 1)) {
            const auto close = arg.find('%', open + 1);
            if (close == std::string_view::npos)
                break;
            const auto name = arg.substr(open + 1, close - open - 1);
            if (!name.empty() && std::all_of(name.begin(), name.end(),
                                             [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; }))
                return "bad option or value: '" + std::string(arg) + "'";
        }
    }
    return e.what();
}

/// Runs a Boost.Program_options command-line parser (options, positionals and style already set) into
/// vm and returns how often -v/--verbose was given; a parse error becomes a usage_error.
inline int parse_command_line(boost::program_options::command_line_parser& parser,
                              boost::program_options::variables_map& vm, int argc, const char* const argv[]) {
    namespace po = boost::program_options;
    try {
        auto parsed = parser.run();
        po::store(parsed, vm);
        po::notify(vm);
        int verbose = 0;
        for (const auto& opt : parsed.options)
            verbose += opt.string_key == "verbose";
        return verbose;
    } catch (const po::error& e) {
        throw usage_error(error_message(e, argc, argv));
    }
}

} // namespace app_common
