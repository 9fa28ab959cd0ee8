#pragma once

#include <edgeloop/core/asio_config.hpp>
#include <edgeloop/core/errc.hpp>
#include <edgeloop/core/log.hpp>
#include <edgeloop/core/reactor.hpp>
