#pragma once

#include <edgeloop/tls/context.hpp>
#include <edgeloop/tls/error.hpp>
#include <edgeloop/tls/options.hpp>
