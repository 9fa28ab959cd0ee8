#pragma once

#include <string>
#include <utility>
#include <vector>

namespace edgeloop::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request. Host, User-Agent and Content-Length are added when absent.
struct request {
    std::string method = "GET";
    std::string url;
    header_list headers;
    std::string body;
};

} // namespace edgeloop::http
