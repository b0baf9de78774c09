package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PushbackInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * Reads the digits CSV format: one image per line, {@code side * side} pixel counts 0..16 followed by the label 0..9;
 * plain or gzip-compressed. Pixels are scaled by 1/16 to [0, 1] as in the tutorial.
 */
public final class DigitsCsv {
  /** Name of the bundled data set (scikit-learn's 8x8 digits) on the class path. */
  public static final String BUNDLED = "digits.csv.gz";
  public static final int SIDE = 8;
  public static final float MAX_COUNT = 16f;

  private DigitsCsv() {}

  /** The bundled 1,797 digits. */
  public static Images bundled() {
    try (InputStream in = DigitsCsv.class.getResourceAsStream(BUNDLED)) {
      if (in == null) {
        throw new IllegalStateException("bundled data " + BUNDLED + " is missing from the jar");
      }
      return read(in, "bundled " + BUNDLED);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read bundled " + BUNDLED, e);
    }
  }

  public static Images read(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    } catch (NoSuchFileException e) {
      throw new UserError("Data file " + file + " does not exist.");
    } catch (IOException e) {
      throw new UserError("Cannot read data file " + file + ": " + e.getMessage() + ".");
    }
  }

  /** {@code raw}, decompressed if it starts with the gzip magic. */
  static InputStream maybeGunzip(InputStream raw) throws IOException {
    PushbackInputStream in = new PushbackInputStream(raw, 2);
    byte[] magic = in.readNBytes(2);
    in.unread(magic);
    return magic.length == 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b ? new GZIPInputStream(in) : in;
  }

  static Images read(InputStream raw, String name) throws IOException {
    InputStream body = maybeGunzip(raw);
    BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    int columns = SIDE * SIDE + 1;
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    String line;
    int lineNo = 0;
    while ((line = reader.readLine()) != null) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      String[] cells = line.split(",", -1);
      if (cells.length != columns) {
        throw new UserError(name + " line " + lineNo + ": expected " + columns + " comma-separated values ("
            + (columns - 1) + " pixels and a label), found " + cells.length + ".");
      }
      float[] pixels = new float[columns - 1];
      for (int i = 0; i < columns - 1; i++) {
        int v = parse(cells[i], name, lineNo, i + 1);
        if (v < 0 || v > MAX_COUNT) {
          throw new UserError(name + " line " + lineNo + ": pixel " + (i + 1) + " is " + v
              + ", outside 0..16.");
        }
        pixels[i] = v / MAX_COUNT;
      }
      int label = parse(cells[columns - 1], name, lineNo, columns);
      if (label < 0 || label > 9) {
        throw new UserError(name + " line " + lineNo + ": label is " + label + ", outside 0..9.");
      }
      rows.add(pixels);
      labels.add(label);
    }
    if (rows.isEmpty()) {
      throw new UserError(name + " holds no images.");
    }
    float[] all = new float[rows.size() * (columns - 1)];
    for (int r = 0; r < rows.size(); r++) {
      System.arraycopy(rows.get(r), 0, all, r * (columns - 1), columns - 1);
    }
    return new Images(all, labels.stream().mapToInt(Integer::intValue).toArray(), SIDE, SIDE);
  }

  private static int parse(String cell, String name, int lineNo, int column) {
    String s = cell.strip();
    try {
      double d = Double.parseDouble(s);
      if (d != Math.rint(d)) {
        throw new NumberFormatException();
      }
      return (int) d;
    } catch (NumberFormatException e) {
      throw new UserError(name + " line " + lineNo + ": value " + column + " is '" + s
          + "', not a whole number.");
    }
  }
}
