#pragma once
// Running one of the apps (multi_fetch, aws_post) to its exit from a Boost.Test case, and looking at
// the files it left: what the integration suites that drive an app share.

#include <support/process.hpp>

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace edgeloop::test {

struct app_result {
    int status = -1;    ///< exit status (128+signal when killed)
    std::string output; ///< stdout and stderr together
};

/// Runs `program` with `args` to its exit, stdout and stderr logged to a fresh file in a directory of
/// the test binary's own named after `tag`; the case fails (and stops) if it does not exit in `timeout`.
/// `env`: NAME=VALUE settings added to the program's environment.
inline app_result run_app(const std::string& program, std::vector<std::string> args, const std::string& tag,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          std::vector<std::string> env = {}) {
    static const std::string dir = make_temp_dir("app_runs");
    static int n = 0;
    const std::string log = dir + "/" + tag + "-" + std::to_string(++n) + ".log";
    args.insert(args.begin(), program);
    child_process p(std::move(args), log, std::move(env));
    const auto status = p.wait_for_exit(timeout);
    BOOST_REQUIRE_MESSAGE(status.has_value(), program << " did not exit in time; output:\n"
                                                      << read_file(log));
    return {*status, read_file(log)};
}

/// The names in a directory, sorted.
inline std::vector<std::string> files_in(const std::string& dir) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

} // namespace edgeloop::test
