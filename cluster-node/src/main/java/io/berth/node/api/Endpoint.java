package io.berth.node.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * One route of the API: method, path template ({@code /v1/containers/{id}/start}) and handler. The API is a
 * table of these, so the OpenAPI document can be checked against exactly what is served.
 */
record Endpoint(String method, String template, Handler handler) {

  @FunctionalInterface
  interface Handler {
    CompletionStage<HttpResponse> handle(Call call) throws Exception;
  }

  List<String> segments() {
    return split(template);
  }

  /** The path parameters when {@code path} fits the template, or null. */
  Map<String, String> match(List<String> path) {
    List<String> t = segments();
    if (t.size() != path.size()) return null;
    Map<String, String> params = new HashMap<>();
    for (int i = 0; i < t.size(); i++) {
      String s = t.get(i);
      if (s.startsWith("{") && s.endsWith("}")) {
        params.put(s.substring(1, s.length() - 1), path.get(i));
      } else if (!s.equals(path.get(i))) {
        return null;
      }
    }
    return params;
  }

  static List<String> split(String path) {
    List<String> out = new ArrayList<>();
    for (String s : path.split("/")) if (!s.isEmpty()) out.add(s);
    return out;
  }
}
