#include <doctest/doctest.h>

#include "ferry/api/errors.hpp"
#include "sink/sink_replies.hpp"
#include "sink_test_support.hpp"

using ferry::api::data_error;
using ferry::api::retriable_error;
using ferry::redis::check_replies;
using sink_test::replies;

TEST_CASE("redis sink replies: -OOM and other passing server states are retriable") {
  for (std::string e :
       {"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
        "-LOADING Redis is loading the dataset in memory\r\n",
        "-BUSY Redis is busy running a script\r\n", "-TRYAGAIN x\r\n",
        "-CLUSTERDOWN The cluster is down\r\n", "-READONLY You can't write\r\n",
        "-MOVED 3999 127.0.0.1:6381\r\n", "-NOREPLICAS Not enough good replicas\r\n"}) {
    CAPTURE(e);
    CHECK_THROWS_AS(check_replies(replies("+OK\r\n" + e), false, 0, 0), retriable_error);
  }
}

TEST_CASE("redis sink replies: a refused command is a data error, not retriable") {
  for (std::string e : {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
                        "-ERR value is not a valid float\r\n", "-BUSYKEY Target key name\r\n"}) {
    CAPTURE(e);
    try {
      check_replies(replies(e), false, 0, 0);
      FAIL("no exception");
    } catch (const retriable_error&) {
      FAIL("retriable");
    } catch (const data_error&) {
    }
  }
}

TEST_CASE("redis sink replies: MULTI/EXEC errors are found inside EXEC and on queueing") {
  // OOM while queueing: the command's error, then EXECABORT
  CHECK_THROWS_AS(
      check_replies(replies("+OK\r\n-OOM no\r\n-EXECABORT Transaction discarded\r\n"), true, 0, 0),
      retriable_error);
  // a runtime error inside EXEC's array
  CHECK_THROWS_AS(check_replies(replies("+OK\r\n+QUEUED\r\n*1\r\n-WRONGTYPE bad\r\n"), true, 0, 0),
                  data_error);
  CHECK_THROWS_AS(check_replies(replies("+OK\r\n+QUEUED\r\n*-1\r\n"), true, 0, 0), retriable_error);
  CHECK_NOTHROW(check_replies(replies("+OK\r\n+QUEUED\r\n*1\r\n:1\r\n"), true, 0, 0));
}

TEST_CASE("redis sink replies: fewer WAIT acknowledgements than asked is retriable") {
  CHECK_NOTHROW(check_replies(replies(":1\r\n:2\r\n"), false, 2, 100));
  CHECK_NOTHROW(check_replies(replies(":1\r\n:3\r\n"), false, 2, 100));
  try {
    check_replies(replies(":1\r\n:1\r\n"), false, 2, 100);
    FAIL("no exception");
  } catch (const retriable_error& e) {
    std::string msg = e.what();
    CHECK(msg.find("1 of the 2 replicas") != std::string::npos);
    CHECK(msg.find("100 ms") != std::string::npos);
  }
}
