package dev.tfdiffusion.serve;

import dev.tfdiffusion.sample.Figures;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.SampleFiles;
import dev.tfdiffusion.sample.SavedModelSampler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * The project's own endpoints for clients that want pictures, not JSON (TensorFlow Serving has none):
 * {@code GET /v1/models/NAME[/versions/V]/samples.png?count=16&seed=3&sampler=ddim&steps=50&eta=0} draws a grid
 * exactly as {@code sample --seed} does, and {@code .../reverse.gif?count=&seed=&sampler=&frames=} animates the
 * reverse process. Same parameters, same bytes. A conditional model also takes {@code label} (one class for every
 * image; without it the images cycle through the classes) and {@code guidance}.
 */
final class ImageEndpoints {
  static final Pattern PATH = Pattern.compile("/v1/models/([^/:]+)(?:/versions/(\\d{1,18}))?/(samples\\.png|reverse\\.gif)");
  private static final Set<String> PARAMETERS = Set.of("count", "seed", "sampler", "steps", "eta", "frames", "label",
      "guidance");
  /** The largest guidance weight the image endpoints accept: far beyond any useful one. */
  static final float MAX_GUIDANCE = 100f;
  static final int DEFAULT_COUNT = 16;
  static final int DEFAULT_DDIM_STEPS = 50;
  static final int DEFAULT_FRAMES = 20;
  static final int MAX_FRAMES = 100;

  private final RestApi api;

  /**
   * @param api whose model and version lookup (and TensorFlow Serving's 404 texts), admission, metrics and batch limit
   *     the image URLs share
   */
  ImageEndpoints(RestApi api) {
    this.api = api;
  }

  /** Answers a GET whose path matched {@link #PATH}. */
  RestApi.Response handle(Matcher path, String query) {
    long start = System.nanoTime();
    String what = path.group(3);
    String signature = "";
    RestApi.Response response;
    try {
      String model = URLDecoder.decode(path.group(1), StandardCharsets.UTF_8);
      ServedModel served = api.resolve(model, path.group(2), null, true);
      SavedModelSampler sampler = served.sampler().orElseThrow(() -> new ServeException(Status.NOT_FOUND,
          "Model " + model + " was not exported by tf-diffusion, so it has no " + what + "."));
      Map<String, String> q = parse(query);
      int count = intParam(q, "count", DEFAULT_COUNT, 1, api.maxBatch());
      long seed = longParam(q, "seed", 0);
      Sampler kind = samplerParam(q);
      int steps = intParam(q, "steps", DEFAULT_DDIM_STEPS, 1, 1000);
      float eta = floatParam(q, "eta", 0f, 0f, 1f);
      SavedModelSampler.Condition condition = condition(sampler, q, count, model);
      signature = what.equals("samples.png") ? kind.signature() : kind.withTrajectory().trajectorySignature();
      float[] noise = sampler.noise(count, seed);
      try (Admission.Permit permit = api.admission().enter()) {
        response = what.equals("samples.png") ? png(sampler, kind, noise, seed, steps, eta, condition)
            : gif(sampler, kind, noise, seed, intParam(q, "frames", DEFAULT_FRAMES, 2, MAX_FRAMES), condition);
      } catch (TensorFlowException e) {
        throw RestApi.fromTensorFlow(e);
      }
    } catch (ServeException e) {
      response = RestApi.Response.error(e);
    }
    api.metrics().recordRequest(api.name(), what, response.status().name(), (System.nanoTime() - start) / 1000);
    if (!signature.isEmpty()) {
      api.metrics().recordSignatureRequest(api.name(), signature, response.status().name());
    }
    return response;
  }

  private static RestApi.Response png(SavedModelSampler model, Sampler kind, float[] noise, long seed, int steps,
                                      float eta, SavedModelSampler.Condition condition) {
    float[] images = kind.run(model, noise, seed, steps, eta, condition);
    int n = noise.length / model.pixelsPerImage();
    return file("image/png", ".png", f -> SampleFiles.writeGrid(f, images, model.height(), model.width(),
        model.channels(), SampleFiles.squareColumns(n)));
  }

  private static RestApi.Response gif(SavedModelSampler model, Sampler kind, float[] noise, long seed, int frames,
                                      SavedModelSampler.Condition condition) {
    return file("image/gif", ".gif", f -> Figures.reverseGif(model, f, noise, seed, frames, kind.withTrajectory(),
        condition));
  }

  /**
   * A conditional model's labels (every image {@code label}, or the classes in turn) and guidance; null for an
   * unconditional model, which refuses both parameters.
   */
  private static SavedModelSampler.Condition condition(SavedModelSampler model, Map<String, String> q, int count,
                                                       String name) {
    if (!model.conditional()) {
      for (String key : new String[] {"label", "guidance"}) {
        if (q.containsKey(key)) {
          throw bad("'" + key + "' steers a conditional model, and " + name + " is unconditional.");
        }
      }
      return null;
    }
    int[] labels = new int[count];
    if (q.containsKey("label")) {
      java.util.Arrays.fill(labels, intParam(q, "label", 0, 0, model.classes() - 1));
    } else {
      for (int i = 0; i < count; i++) {
        labels[i] = i % model.classes();
      }
    }
    return new SavedModelSampler.Condition(labels,
        floatParam(q, "guidance", (float) dev.tfdiffusion.sample.Signatures.DEFAULT_GUIDANCE, 0f, MAX_GUIDANCE));
  }

  private interface Writer {
    void write(Path file) throws IOException;
  }

  /** The project's image writers write files; a private temporary one becomes the response body. */
  private static RestApi.Response file(String contentType, String suffix, Writer writer) {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("tf-diffusion-serve", suffix);
      writer.write(tmp);
      return new RestApi.Response(Status.OK, contentType, Files.readAllBytes(tmp));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a leftover temporary file is harmless
        }
      }
    }
  }

  private static Map<String, String> parse(String query) {
    Map<String, String> out = new LinkedHashMap<>();
    if (query == null || query.isEmpty()) {
      return out;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (!PARAMETERS.contains(key)) {
        throw bad("Unknown parameter '" + key + "'; the image endpoints take count, seed, sampler, steps, eta, "
            + "frames, label and guidance.");
      }
      out.put(key, value);
    }
    return out;
  }

  private static int intParam(Map<String, String> q, String key, int fallback, int min, int max) {
    String v = q.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // the sentence below says what is expected
    }
    throw bad("'" + key + "' must be a whole number from " + min + " to " + max + ", got '" + v + "'.");
  }

  private static long longParam(Map<String, String> q, String key, long fallback) {
    String v = q.get(key);
    try {
      return v == null ? fallback : Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw bad("'" + key + "' must be a whole number, got '" + v + "'.");
    }
  }

  private static float floatParam(Map<String, String> q, String key, float fallback, float min, float max) {
    String v = q.get(key);
    try {
      float f = v == null ? fallback : Float.parseFloat(v);
      if (f >= min && f <= max) {
        return f;
      }
    } catch (NumberFormatException e) {
      // the sentence below says what is expected
    }
    throw bad("'" + key + "' must be a number from " + plain(min) + " to " + plain(max) + ", got '"
        + v + "'.");
  }

  private static String plain(float f) {
    return f == Math.rint(f) ? Long.toString((long) f) : Float.toString(f);
  }

  private static Sampler samplerParam(Map<String, String> q) {
    String v = q.getOrDefault("sampler", "ddim");
    try {
      return Sampler.valueOf(v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad("'sampler' must be ddpm, ddim or tutorial, got '" + v + "'.");
    }
  }

  private static ServeException bad(String message) {
    return new ServeException(Status.INVALID_ARGUMENT, message);
  }
}
