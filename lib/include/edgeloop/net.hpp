#pragma once

#include <edgeloop/net/allowlist.hpp>
