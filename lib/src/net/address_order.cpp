#include <edgeloop/net/address_order.hpp>

#include <algorithm>

namespace edgeloop::net {

void happy_eyeballs_order(std::vector<boost::asio::ip::tcp::endpoint>& addresses, ip_family family) {
    using endpoint = boost::asio::ip::tcp::endpoint;
    std::vector<endpoint> v6, v4;
    for (const endpoint& e : addresses) {
        auto& list = e.address().is_v6() ? v6 : v4;
        if (std::find(list.begin(), list.end(), e) == list.end())
            list.push_back(e);
    }
    if (family == ip_family::v4)
        v6.clear();
    if (family == ip_family::v6)
        v4.clear();
    const bool v6_first = !addresses.empty() && addresses.front().address().is_v6();
    auto& first = v6_first ? v6 : v4;
    auto& second = v6_first ? v4 : v6;
    addresses.clear();
    for (std::size_t i = 0; i < std::max(first.size(), second.size()); ++i) {
        if (i < first.size())
            addresses.push_back(first[i]);
        if (i < second.size())
            addresses.push_back(second[i]);
    }
}

} // namespace edgeloop::net
