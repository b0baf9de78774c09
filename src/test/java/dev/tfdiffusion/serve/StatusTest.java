package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusTest {
  @Test
  void httpStatusesAreTfsToHttpStatusCodePlusOurs() {
    Map<Status, Integer> expected = new EnumMap<>(Status.class);
    expected.put(Status.OK, 200);
    expected.put(Status.CANCELLED, 499);
    expected.put(Status.UNKNOWN, 500);
    expected.put(Status.INVALID_ARGUMENT, 400);
    expected.put(Status.DEADLINE_EXCEEDED, 504);
    expected.put(Status.NOT_FOUND, 404);
    expected.put(Status.ALREADY_EXISTS, 409);
    expected.put(Status.PERMISSION_DENIED, 403);
    expected.put(Status.RESOURCE_EXHAUSTED, 429);
    expected.put(Status.FAILED_PRECONDITION, 400);
    expected.put(Status.ABORTED, 409);
    expected.put(Status.OUT_OF_RANGE, 400);
    expected.put(Status.UNIMPLEMENTED, 501);
    expected.put(Status.INTERNAL, 500);
    expected.put(Status.UNAVAILABLE, 503);
    expected.put(Status.DATA_LOSS, 500);
    expected.put(Status.UNAUTHENTICATED, 401);
    expected.put(Status.PAYLOAD_TOO_LARGE, 413);
    Map<Status, Integer> actual = new EnumMap<>(Status.class);
    for (Status s : Status.values()) {
      actual.put(s, s.http());
    }
    assertEquals(expected, actual);
  }

  @Test
  void errorBodyIsTfsMakeJsonFromStatus() {
    // json_tensor_test.cc StatusError: the message alone under "error", PrettyWriter's layout
    ServeException e = new ServeException(Status.INVALID_ARGUMENT, "Bad key: \"key\"");
    assertEquals("{\n    \"error\": \"Bad key: \\\"key\\\"\"\n}", e.errorJson());
    assertEquals(Status.INVALID_ARGUMENT, e.status());
    assertEquals("Bad key: \"key\"", e.getMessage());
  }

  @Test
  void errorBodyEscapesEveryCharacterJsonNeeds() throws Exception {
    String message = "a\\b\nc\td\u0001e\u00e9 </script>";
    String json = new ServeException(Status.NOT_FOUND, message).errorJson();
    assertEquals("{\n    \"error\": \"a\\\\b\\nc\\td\\u0001e\u00e9 </script>\"\n}", json);
    assertEquals(message, new ObjectMapper().readTree(json).get("error").textValue());
  }

  @Test
  void okIsNotAnError() {
    assertThrows(IllegalArgumentException.class, () -> new ServeException(Status.OK, "fine"));
  }
}
