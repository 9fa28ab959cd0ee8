#include <support/servers.hpp>
#include <support/stunnel.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

namespace edgeloop::test {

using namespace std::chrono_literals;

stunnel_server::stunnel_server(options opts)
    : dir_(make_temp_dir("stunnel")) {
    ::chmod(dir_.c_str(), 0755);
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = free_port();
        std::ofstream(dir_ + "/stunnel.conf") << "foreground = yes\n"
                                              << "pid =\n"
                                              << "output = " << dir_ << "/stunnel.log\n"
                                              << "debug = 5\n"
                                              << "[proxy]\n"
                                              << "accept = 127.0.0.1:" << port_ << "\n"
                                              << "connect = 127.0.0.1:" << opts.forward_port << "\n"
                                              << "cert = " << pki::path(opts.cert + ".crt") << "\n"
                                              << "key = " << pki::path(opts.cert + ".key") << "\n";
        proc_ = child_process({"stunnel4", dir_ + "/stunnel.conf"}, dir_ + "/stunnel.out");
        if (wait_for_listen(port_, 10s))
            return;
        proc_.stop();
    }
    throw std::runtime_error("stunnel did not start: " + read_file(dir_ + "/stunnel.out") + log());
}

stunnel_server::~stunnel_server() {
    proc_.stop();
    const char* keep = std::getenv("EDGELOOP_TEST_KEEP_TMP");
    if (keep == nullptr || *keep == '\0' || std::string_view(keep) == "0") {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
}

std::string stunnel_server::log() const {
    return read_file(dir_ + "/stunnel.log");
}

} // namespace edgeloop::test
