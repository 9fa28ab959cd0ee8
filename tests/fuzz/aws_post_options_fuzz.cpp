// aws_post_options_fuzz: aws_post::parse_options with an argv from the input (see argv_input.hpp). A
// bad command line must throw usage_error and nothing else; an accepted one must satisfy the rules
// parse_options promises.

#include "argv_input.hpp"

#include "aws_post/options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fuzz::argv_input in(data, size);
    if (!in.usable())
        return 0;
    try {
        const auto o = aws_post::parse_options(in.argc(), in.argv());
        if (o.help)
            return 0;
        FUZZ_CHECK(o.port != 0);
        FUZZ_CHECK(o.qos == 0 || o.qos == 1);
        FUZZ_CHECK(o.count >= 1);
        FUZZ_CHECK(o.attempts >= 1 && o.attempts <= 1000);
        FUZZ_CHECK(o.backoff_base <= o.backoff_max && o.backoff_max.count() <= 3600 * 1000);
        FUZZ_CHECK(!o.connect_timeout || o.connect_timeout->count() >= 0);
        FUZZ_CHECK(!o.max_time || o.max_time->count() >= 0);
        FUZZ_CHECK(o.sni.empty() || !o.no_sni);
        FUZZ_CHECK(o.cert.empty() == o.key.empty());
        FUZZ_CHECK(o.pass.empty() || !o.key.empty());
        FUZZ_CHECK(o.demo || !o.endpoint.empty());
    } catch (const aws_post::usage_error& e) {
        FUZZ_CHECK(e.what() != nullptr);
    }
    return 0;
}
