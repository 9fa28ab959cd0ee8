#pragma once

#include <edgeloop/net/address_order.hpp>
#include <edgeloop/net/allowlist.hpp>
#include <edgeloop/net/ip_family.hpp>
#include <edgeloop/net/name_overrides.hpp>
