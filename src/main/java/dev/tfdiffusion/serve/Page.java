package dev.tfdiffusion.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The page at {@code /}: a form that draws samples through the image endpoints; one file in the jar, no scripts from elsewhere. */
final class Page {
  private final byte[] html;

  /** @param classes of the newest version when it is a conditional model (the page then asks for a class), else 0 */
  Page(String modelName, int classes) {
    try (InputStream in = Page.class.getResourceAsStream("index.html")) {
      if (in == null) {
        throw new IllegalStateException("index.html is missing from the jar");
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      this.html = text.replace("{{MODEL}}", escape(modelName)).replace("{{CLASSES}}", Integer.toString(classes))
          .replace("{{GUIDANCE}}", Decimals.formatDouble(dev.tfdiffusion.sample.Signatures.DEFAULT_GUIDANCE))
          .getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  byte[] html() {
    return html;
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
        .replace("'", "&#39;");
  }
}
