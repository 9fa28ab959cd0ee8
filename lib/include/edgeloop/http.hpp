#pragma once

#include <edgeloop/http/byte_range.hpp>
#include <edgeloop/http/client.hpp>
#include <edgeloop/http/connect_options.hpp>
#include <edgeloop/http/date.hpp>
#include <edgeloop/http/error.hpp>
#include <edgeloop/http/full_response.hpp>
#include <edgeloop/http/multi.hpp>
#include <edgeloop/http/options.hpp>
#include <edgeloop/http/proxy.hpp>
#include <edgeloop/http/rate_limit.hpp>
#include <edgeloop/http/request.hpp>
#include <edgeloop/http/response.hpp>
#include <edgeloop/http/transfer_retry.hpp>
#include <edgeloop/http/url.hpp>
