package dev.tfdiffusion.serve;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.proto.ConfigProto;

/**
 * The loaded versions of one model, laid out as TensorFlow Serving expects: either a SavedModel folder (served as
 * version 1) or a base folder whose numeric sub-folders are versions. Every version found is loaded (TensorFlow
 * Serving's default policy loads only the newest; here a request may name any version in the folder), and requests
 * without a version get the highest.
 */
final class ModelVersions implements AutoCloseable {
  private final SortedMap<Long, ServedModel> versions;

  private ModelVersions(SortedMap<Long, ServedModel> versions) {
    this.versions = Collections.unmodifiableSortedMap(versions);
  }

  /** Loads {@code dir}, or explains in one sentence why it cannot be served; runs get the deadline {@code timeoutMs}. */
  static ModelVersions load(Path dir, ConfigProto config, long timeoutMs) {
    SortedMap<Long, Path> found = find(dir);
    SortedMap<Long, ServedModel> loaded = new TreeMap<>();
    try {
      found.forEach((version, path) -> loaded.put(version, ServedModel.load(path, version, config, timeoutMs)));
    } catch (RuntimeException e) {
      loaded.values().forEach(ServedModel::close);
      throw e;
    }
    return new ModelVersions(loaded);
  }

  /** The SavedModel folder of each version in {@code dir}. */
  static SortedMap<Long, Path> find(Path dir) {
    if (!Files.exists(dir)) {
      throw new UserError("Model folder " + dir + " does not exist.");
    }
    if (!Files.isDirectory(dir)) {
      throw new UserError(dir + " is a file, not a SavedModel folder or a folder of numbered versions.");
    }
    SortedMap<Long, Path> versions = new TreeMap<>();
    if (isSavedModel(dir)) {
      versions.put(1L, dir);
      return versions;
    }
    List<Path> children = new ArrayList<>();
    try (Stream<Path> list = Files.list(dir)) {
      list.forEach(children::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path child : children) {
      String name = child.getFileName().toString();
      if (name.matches("\\d{1,18}") && isSavedModel(child)) {
        versions.put(Long.parseLong(name), child);
      }
    }
    if (versions.isEmpty()) {
      Path inside = dir.resolve(RunLayout.SAVED_MODEL);
      String hint = isSavedModel(inside) ? " (did you mean " + inside + "?)" : "";
      throw new UserError(dir + " holds neither a saved_model.pb nor numbered version folders (1/, 2/, ...) with one"
          + hint + ".");
    }
    return versions;
  }

  private static boolean isSavedModel(Path dir) {
    return Files.isRegularFile(dir.resolve(RunLayout.SAVED_MODEL_PB));
  }

  /** The highest version. */
  ServedModel latest() {
    return versions.get(versions.lastKey());
  }

  Optional<ServedModel> version(long version) {
    return Optional.ofNullable(versions.get(version));
  }

  /** Every loaded version, in increasing order. */
  Collection<ServedModel> all() {
    return versions.values();
  }

  @Override
  public void close() {
    versions.values().forEach(ServedModel::close);
  }
}
