#pragma once

// The proxy options both apps share, with curl's names and meanings: -x/--proxy, --proxy-user, --noproxy
// (the environment variables are read by the library: apps/common/proxy.hpp).

#include <boost/program_options.hpp>

#include <optional>
#include <string>

namespace app_common {

struct proxy_cli {
    std::string proxy;                  ///< -x/--proxy URL
    std::string proxy_user;             ///< --proxy-user USER:PASSWORD (never logged)
    std::optional<std::string> noproxy; ///< --noproxy LIST
    std::string proxy_cacert;           ///< --proxy-cacert FILE: trust for an https:// proxy
    bool proxy_insecure = false;        ///< --proxy-insecure: an https:// proxy is not verified (loud)
};

inline void add_proxy_options(boost::program_options::options_description& d, proxy_cli& p) {
    namespace po = boost::program_options;
    // clang-format off
    d.add_options()
        ("proxy,x", po::value(&p.proxy)->value_name("URL"),
         "proxy, SCHEME://[USER:PASSWORD@]HOST[:PORT] (port 1080 by default, 443 for https); SCHEME http\n"
         "(CONNECT tunnel for https, absolute-form requests for http; the default), https (the same inside\n"
         "TLS with the proxy, verified: see --proxy-cacert), socks5 (SOCKS5, names resolved here) or\n"
         "socks5h (SOCKS5, names resolved by the proxy) (default: https_proxy/HTTPS_PROXY, http_proxy,\n"
         "all_proxy/ALL_PROXY)")
        ("proxy-user", po::value(&p.proxy_user)->value_name("USER:PASSWORD"),
         "proxy authentication, Basic or SOCKS5 username/password (instead of the proxy URL's; never logged)")
        ("noproxy", po::value<std::string>()->value_name("LIST")->notifier([&p](const std::string& v) { p.noproxy = v; }),
         "hosts that go direct: names, domain suffixes, IP addresses, CIDR ranges, * for all\n"
         "(default: no_proxy/NO_PROXY)")
        ("proxy-cacert", po::value(&p.proxy_cacert)->value_name("FILE"),
         "PEM trust anchors for an https:// proxy's own certificate (default: the system store; --cacert\n"
         "is for the target only)")
        ("proxy-insecure", po::bool_switch(&p.proxy_insecure),
         "DO NOT verify an https:// proxy's certificate (a warning is logged for every connection to it)");
    // clang-format on
}

} // namespace app_common
