package dev.tfdiffusion;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads the reference tables in src/test/resources (copied from shared/reference): CSV with # comments. */
public final class Golden {
  private Golden() {}

  /** Rows as column name -> cell text. */
  public static List<Map<String, String>> table(String resource) {
    try (InputStream in = Golden.class.getResourceAsStream("/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + resource);
      }
      List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
          .filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
      String[] header = lines.get(0).split(",");
      List<Map<String, String>> rows = new ArrayList<>();
      for (String line : lines.subList(1, lines.size())) {
        String[] cells = line.split(",", -1);
        Map<String, String> row = new TreeMap<>();
        for (int i = 0; i < header.length; i++) {
          row.put(header[i], i < cells.length ? cells[i] : "");
        }
        rows.add(row);
      }
      return rows;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
