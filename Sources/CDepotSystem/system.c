#include "depot_system.h"
