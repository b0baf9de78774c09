package dev.tfdiffusion.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/**
 * A looping animated GIF of image grids, written with the JDK's ImageIO GIF writer, which gives each (RGB) frame its
 * own palette of up to 256 colours (an octree quantizer, no dithering): exact for gray frames, which have at most 256
 * grays, and adapted to each colour frame's colours (on smooth colour cells, half the error of a fixed 6x7x6 colour
 * cube).
 */
public final class AnimatedGif {
  private static final int FRAME_CENTIS = 8;
  private static final int LAST_FRAME_CENTIS = 200;

  private AnimatedGif() {}

  /** One frame per grid; each grid is a square-ish arrangement of its gray images, captioned. */
  public static void write(Path gif, List<List<float[]>> grids, List<String> captions, int height, int width)
      throws IOException {
    write(gif, grids, captions, height, width, 1);
  }

  /**
   * One frame per grid; each grid is a square-ish arrangement of its images, captioned.
   *
   * @param channels 1 (gray) or 3 (RGB), the images' values being HWC
   */
  public static void write(Path gif, List<List<float[]>> grids, List<String> captions, int height, int width,
                           int channels) throws IOException {
    ImageGrid.checkChannels(channels);
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("gif");
    if (!writers.hasNext()) {
      throw new IOException("no GIF writer available");
    }
    ImageWriter writer = writers.next();
    Path tmp = gif.resolveSibling(gif.getFileName() + ".tmp");
    try (ImageOutputStream out = ImageIO.createImageOutputStream(tmp.toFile())) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      for (int f = 0; f < grids.size(); f++) {
        BufferedImage frame = render(grids.get(f), captions.get(f), height, width, channels);
        int delay = f == grids.size() - 1 ? LAST_FRAME_CENTIS : FRAME_CENTIS;
        writer.writeToSequence(new IIOImage(frame, null, metadata(writer, frame, delay, f == 0)), null);
      }
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    Files.move(tmp, gif, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static BufferedImage render(List<float[]> images, String caption, int height, int width,
                                      int channels) {
    int columns = (int) Math.ceil(Math.sqrt(images.size()));
    int rows = (images.size() + columns - 1) / columns;
    int cell = Math.max(24, 192 / columns);
    int cellH = cell * height / width;
    BufferedImage img = new BufferedImage(columns * (cell + 2) + 2, rows * (cellH + 2) + 20,
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, img.getWidth(), img.getHeight());
    // nearest-neighbour enlargement: flat blocks keep the GIF small (smooth gradients defeat its LZW compression)
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
    for (int i = 0; i < images.size(); i++) {
      g.drawImage(ImageGrid.toImage(images.get(i), height, width, channels), 2 + (i % columns) * (cell + 2),
          2 + (i / columns) * (cellH + 2), cell, cellH, null);
    }
    g.setColor(Color.DARK_GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawString(caption, 4, img.getHeight() - 5);
    g.dispose();
    return img;
  }

  private static IIOMetadata metadata(ImageWriter writer, BufferedImage frame, int delayCentis, boolean first)
      throws IOException {
    IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(frame), null);
    String format = meta.getNativeMetadataFormatName();
    IIOMetadataNode root = (IIOMetadataNode) meta.getAsTree(format);
    IIOMetadataNode control = child(root, "GraphicControlExtension");
    control.setAttribute("disposalMethod", "none");
    control.setAttribute("userInputFlag", "FALSE");
    control.setAttribute("transparentColorFlag", "FALSE");
    control.setAttribute("delayTime", Integer.toString(delayCentis));
    control.setAttribute("transparentColorIndex", "0");
    if (first) {
      IIOMetadataNode apps = child(root, "ApplicationExtensions");
      IIOMetadataNode loop = new IIOMetadataNode("ApplicationExtension");
      loop.setAttribute("applicationID", "NETSCAPE");
      loop.setAttribute("authenticationCode", "2.0");
      loop.setUserObject(new byte[] {1, 0, 0}); // loop forever
      apps.appendChild(loop);
    }
    meta.setFromTree(format, root);
    return meta;
  }

  private static IIOMetadataNode child(IIOMetadataNode root, String name) {
    for (int i = 0; i < root.getLength(); i++) {
      if (root.item(i).getNodeName().equalsIgnoreCase(name)) {
        return (IIOMetadataNode) root.item(i);
      }
    }
    IIOMetadataNode node = new IIOMetadataNode(name);
    root.appendChild(node);
    return node;
  }
}
