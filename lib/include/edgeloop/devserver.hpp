#pragma once

#include <edgeloop/devserver/server.hpp>
