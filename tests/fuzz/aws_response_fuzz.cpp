// aws_response_fuzz: aws::parse_response and retry::parse_retry_after, both fed from server bytes.
// Input: 2 bytes of status (big endian, mod 1000), then a Retry-After value up to the first '\n', then
// the response body. Invariants: the result keeps the status; a 2xx with a JSON object body is a
// success, every other status an error; Retry-After is never negative nor above 2^31 s.

#include "fuzz_check.hpp"

#include <edgeloop/aws/response.hpp>
#include <edgeloop/retry/retry_after.hpp>

#include <boost/json/parse.hpp>

#include <chrono>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2)
        return 0;
    const unsigned status = ((unsigned{data[0]} << 8) | data[1]) % 1000;
    const auto rest = fuzz::as_text(data + 2, size - 2);
    const auto nl = rest.find('\n');
    const auto retry_after = rest.substr(0, nl);
    const auto body = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);

    const auto r = edgeloop::aws::parse_response(status, body);
    FUZZ_CHECK(r.status == status);
    const bool two_xx = status >= 200 && status < 300;
    if (!two_xx)
        FUZZ_CHECK(!r);
    if (two_xx) {
        boost::system::error_code ec;
        const auto doc = boost::json::parse(body, ec);
        const bool blank = body.find_first_not_of(" \t\r\n") == std::string_view::npos;
        FUZZ_CHECK(bool(r) == (blank || (!ec && doc.is_object())));
    }
    if (!r.message.empty() || !r.trace_id.empty())
        FUZZ_CHECK(body.find('{') != std::string_view::npos);
    (void)r.error.message();

    using namespace std::chrono;
    const auto now = sys_days(year(2026) / 1 / 1) + hours(12);
    if (const auto wait = edgeloop::retry::parse_retry_after(retry_after, now)) {
        FUZZ_CHECK(*wait >= seconds::zero());
        // Dates run to 9999-12-31: about 2.5e11 s from 2026; delta-seconds saturate at 2^31.
        FUZZ_CHECK(*wait <= seconds(std::int64_t{1} << 38));
    }
    return 0;
}
