package dev.tfdiffusion.cli;

import dev.tfdiffusion.sample.Sampler;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli: {@code --sampler ddpm|ddim|tutorial}. */
final class SamplerConverter implements ITypeConverter<Sampler> {
  @Override
  public Sampler convert(String value) {
    try {
      return Sampler.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException("--sampler must be one of "
          + Arrays.stream(Sampler.values()).map(Sampler::label).collect(Collectors.joining(", ")) + ", got '" + value
          + "'.");
    }
  }
}
