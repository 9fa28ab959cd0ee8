#include <edgeloop/retry/retry_after.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace edgeloop::retry {

namespace {

using namespace std::chrono;

constexpr std::int64_t delta_seconds_cap = std::int64_t{1} << 31;

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

/// Value of the `n` digits at s[pos], or -1 when one is not a digit.
int digits(std::string_view s, std::size_t pos, std::size_t n) {
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

std::optional<seconds> parse_delta_seconds(std::string_view s) {
    std::int64_t v = 0;
    for (char c : s) {
        if (!is_digit(c))
            return std::nullopt;
        // Saturate rather than overflow: any value this large means "much later".
        v = std::min(v * 10 + (c - '0'), delta_seconds_cap);
    }
    return seconds(v);
}

/// IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT" (always 29 characters).
std::optional<sys_seconds> parse_imf_fixdate(std::string_view s) {
    static constexpr std::array<std::string_view, 7> day_names{"Mon", "Tue", "Wed", "Thu",
                                                               "Fri", "Sat", "Sun"};
    static constexpr std::array<std::string_view, 12> month_names{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
        s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT")
        return std::nullopt;
    bool day_name_ok = false;
    for (auto name : day_names)
        day_name_ok = day_name_ok || s.substr(0, 3) == name;
    unsigned month_number = 0;
    for (unsigned i = 0; i < month_names.size(); ++i)
        if (s.substr(8, 3) == month_names[i])
            month_number = i + 1;
    const int d = digits(s, 5, 2);
    const int y = digits(s, 12, 4);
    const int hh = digits(s, 17, 2);
    const int mm = digits(s, 20, 2);
    const int ss = digits(s, 23, 2);
    if (!day_name_ok || month_number == 0 || d < 0 || y < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 ||
        ss < 0 || ss > 60)
        return std::nullopt;
    const year_month_day date{year(y), month(month_number), day(static_cast<unsigned>(d))};
    if (!date.ok())
        return std::nullopt;
    return sys_days(date) + hours(hh) + minutes(mm) + seconds(ss);
}

} // namespace

std::optional<seconds> parse_retry_after(std::string_view value, system_clock::time_point now) {
    value = trim(value);
    if (value.empty())
        return std::nullopt;
    if (is_digit(value.front()))
        return parse_delta_seconds(value);
    const auto when = parse_imf_fixdate(value);
    if (!when)
        return std::nullopt;
    // In seconds: converting the date to `now`'s nanoseconds overflows before 1678 and after 2262.
    // The date is whole seconds, so date - floor(now) is the ceiling of the time left.
    const auto left = *when - floor<seconds>(now);
    return left > seconds::zero() ? left : seconds::zero();
}

} // namespace edgeloop::retry
