#include <edgeloop/http/date.hpp>

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace edgeloop::http {

namespace {

constexpr std::array<std::string_view, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/// Reads the text field by field; every read fails once one has.
class reader {
public:
    explicit reader(std::string_view s)
        : s_(s) {}
    bool ok() const { return ok_; }
    bool at_end() const { return ok_ && s_.empty(); }

    /// Exactly `n` digits when n > 0, else 1 or 2.
    int number(std::size_t n) {
        std::size_t len = 0;
        while (len < s_.size() && len < (n ? n : 2) && s_[len] >= '0' && s_[len] <= '9')
            ++len;
        if (len == 0 || (n && len != n))
            return fail();
        int v = 0;
        std::from_chars(s_.data(), s_.data() + len, v);
        s_.remove_prefix(len);
        return v;
    }
    void expect(std::string_view lit) {
        if (s_.substr(0, lit.size()) != lit)
            fail(); // (s_ is empty then: nothing to remove)
        else
            s_.remove_prefix(lit.size());
    }
    void spaces() {
        if (s_.empty() || s_.front() != ' ')
            fail();
        while (!s_.empty() && s_.front() == ' ')
            s_.remove_prefix(1);
    }
    int month() {
        for (std::size_t i = 0; i < months.size(); ++i)
            if (s_.substr(0, 3) == months[i]) {
                s_.remove_prefix(3);
                return static_cast<int>(i);
            }
        return fail();
    }
    /// A day name, abbreviated or (RFC 850) full; its value is not checked against the date.
    void day_name() {
        std::size_t len = 0;
        while (len < s_.size() && ((s_[len] >= 'a' && s_[len] <= 'z') || (s_[len] >= 'A' && s_[len] <= 'Z')))
            ++len;
        if (len < 3)
            fail();
        else
            s_.remove_prefix(len);
    }
    std::string_view rest() const { return s_; }

private:
    int fail() {
        ok_ = false;
        s_ = {};
        return 0;
    }
    std::string_view s_;
    bool ok_ = true;
};

std::optional<std::chrono::system_clock::time_point> make(int year, int month, int day, int h, int m, int s) {
    if (month < 0 || month > 11 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60 || year < 1970)
        return std::nullopt;
    const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(unsigned(month + 1)),
                                          std::chrono::day(unsigned(day))};
    if (!ymd.ok())
        return std::nullopt;
    return std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(m) +
           std::chrono::seconds(s);
}

} // namespace

std::string format_http_date(std::chrono::system_clock::time_point t) {
    const auto secs = std::chrono::floor<std::chrono::seconds>(t);
    const auto day = std::chrono::floor<std::chrono::days>(secs);
    const std::chrono::year_month_day ymd(day);
    const std::chrono::hh_mm_ss hms(secs - day);
    const std::chrono::weekday wd(day);
    char out[40];
    std::snprintf(out, sizeof out, "%.3s, %02u %.3s %04d %02d:%02d:%02d GMT", days[wd.c_encoding()].data(),
                  unsigned(ymd.day()), months[unsigned(ymd.month()) - 1].data(), int(ymd.year()),
                  int(hms.hours().count()), int(hms.minutes().count()), int(hms.seconds().count()));
    return out;
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    if (text.size() >= 10 && text[4] == '-' && text[7] == '-') { // ISO 8601, UTC
        reader r(text);
        const int y = r.number(4);
        r.expect("-");
        const int mo = r.number(2);
        r.expect("-");
        const int d = r.number(2);
        int h = 0, mi = 0, s = 0;
        if (!r.at_end()) {
            r.expect("T");
            h = r.number(2);
            r.expect(":");
            mi = r.number(2);
            r.expect(":");
            s = r.number(2);
            r.expect("Z");
        }
        return r.at_end() ? make(y, mo - 1, d, h, mi, s) : std::nullopt;
    }
    reader r(text);
    r.day_name();
    if (!r.rest().empty() && r.rest().front() == ',') { // IMF-fixdate or RFC 850
        r.expect(",");
        r.spaces();
        const int d = r.number(2);
        const bool rfc850 = !r.rest().empty() && r.rest().front() == '-';
        int y = 0, mo = 0;
        if (rfc850) {
            r.expect("-");
            mo = r.month();
            r.expect("-");
            y = r.number(2);
            y += y < 70 ? 2000 : 1900; // RFC 9110 5.6.7: a two-digit year more than 50 years ahead is past
        } else {
            r.spaces();
            mo = r.month();
            r.spaces();
            y = r.number(4);
        }
        r.spaces();
        const int h = r.number(2);
        r.expect(":");
        const int mi = r.number(2);
        r.expect(":");
        const int s = r.number(2);
        r.spaces();
        r.expect("GMT");
        return r.at_end() ? make(y, mo, d, h, mi, s) : std::nullopt;
    }
    r.spaces(); // asctime: "Sun Nov  6 08:49:37 1994"
    const int mo = r.month();
    r.spaces();
    const int d = r.number(0);
    r.spaces();
    const int h = r.number(2);
    r.expect(":");
    const int mi = r.number(2);
    r.expect(":");
    const int s = r.number(2);
    r.spaces();
    const int y = r.number(4);
    return r.at_end() ? make(y, mo, d, h, mi, s) : std::nullopt;
}

} // namespace edgeloop::http
