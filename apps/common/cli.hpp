#pragma once

// Command-line pieces both apps share.

#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

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

} // namespace app_common
