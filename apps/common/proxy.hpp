#pragma once

// The proxy options both apps share, with curl's names and meanings: -x/--proxy, --proxy-user, --noproxy,
// and the proxy environment variables (https_proxy, HTTPS_PROXY, http_proxy, all_proxy, ALL_PROXY,
// no_proxy, NO_PROXY).

#include <edgeloop/core/log.hpp>
#include <edgeloop/http/proxy.hpp>

#include "common/proxy_cli.hpp"

namespace app_common {

/// The library's settings for the options given (the environment is read too, as curl does).
inline edgeloop::http::proxy_options to_proxy_options(const proxy_cli& p) {
    edgeloop::http::proxy_options o;
    o.url = p.proxy;
    o.credentials = p.proxy_user;
    o.no_proxy = p.noproxy;
    o.from_environment = true;
    o.ca_file = p.proxy_cacert;
    o.insecure = p.proxy_insecure;
    return o;
}

/// -v: says when no proxy is configured at all (a transfer through one logs its proxy and why itself).
inline void log_proxy_setting(const edgeloop::http::proxy_options& o) {
    const auto choice = edgeloop::http::select_proxy(o, true, "");
    const auto plain = edgeloop::http::select_proxy(o, false, "");
    if (choice && !choice->proxy && plain && !plain->proxy)
        edgeloop::core::log::write(edgeloop::core::log_level::info,
                                   "no proxy (none configured: no -x, https_proxy, HTTPS_PROXY, http_proxy, "
                                   "all_proxy or ALL_PROXY)");
}

} // namespace app_common
