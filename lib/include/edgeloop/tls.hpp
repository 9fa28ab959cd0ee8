#pragma once

#include <edgeloop/tls/context.hpp>
#include <edgeloop/tls/error.hpp>
#include <edgeloop/tls/expiry_check.hpp>
#include <edgeloop/tls/identity_watch.hpp>
#include <edgeloop/tls/options.hpp>
