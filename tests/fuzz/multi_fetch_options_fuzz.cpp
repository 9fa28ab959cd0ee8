// multi_fetch_options_fuzz: multi_fetch::parse_options (-K files are only opened there: read later, as the
// transfers run) with an argv from the input (see argv_input.hpp). A bad command line must throw usage_error
// and nothing else; an accepted one must satisfy the rules parse_options promises. Each argument is also
// taken as a -K file line (multi_fetch::parse_config_line): usage_error or a known option, nothing else.

#include "argv_input.hpp"

#include "multi_fetch/options.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fuzz::argv_input in(data, size);
    if (!in.usable())
        return 0;
    try {
        const auto o = multi_fetch::parse_options(in.argc(), in.argv());
        FUZZ_CHECK(o.cert.empty() == o.key.empty());
        FUZZ_CHECK(o.pass.empty() || !o.key.empty());
        FUZZ_CHECK(o.max_redirs <= 1000);
        FUZZ_CHECK(!o.connect_timeout || o.connect_timeout->count() >= 0);
        FUZZ_CHECK(!o.max_time || o.max_time->count() >= 0);
        for (const auto& u : o.urls)
            FUZZ_CHECK(!u.empty() && u.front() != '-');
        for (const auto& a : o.allow)
            FUZZ_CHECK(!a.empty() && a.find(',') == std::string::npos);
        for (const auto ms : o.board.sim_press_after_ms)
            FUZZ_CHECK(ms >= 0);
        FUZZ_CHECK(o.verbose >= 0);
    } catch (const multi_fetch::usage_error& e) {
        FUZZ_CHECK(e.what() != nullptr);
    }
    for (int i = 0; i < in.argc(); ++i) {
        try {
            if (const auto line = multi_fetch::parse_config_line("fuzz", 1, in.argv()[i])) {
                static const char* const known[] = {"url",  "output",     "remote-name", "header",
                                                    "data", "data-ascii", "data-binary", "data-raw",
                                                    "json", "next"};
                FUZZ_CHECK(std::any_of(std::begin(known), std::end(known),
                                       [&](const char* n) { return line->name == n; }));
                FUZZ_CHECK(line->name != "url" || !line->value.empty());
            }
        } catch (const multi_fetch::usage_error& e) {
            FUZZ_CHECK(std::string_view(e.what()).starts_with("--url-file fuzz:1: "));
        }
    }
    return 0;
}
