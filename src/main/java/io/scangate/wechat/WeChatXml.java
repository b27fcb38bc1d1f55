package io.scangate.wechat;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import java.io.IOException;
import java.io.StringReader;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * WeChat's flat XML messages ({@code <xml><Name><![CDATA[value]]></Name>...</xml>}): a parser that
 * refuses DOCTYPEs, entities and external resources (XXE, billion laughs), and a builder.
 */
public final class WeChatXml {

  /** A body that is not a well-formed, harmless WeChat XML message. */
  public static final class MalformedXmlException extends RuntimeException {
    public MalformedXmlException(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * WeChat's deepest message (a picture-sending event: xml, SendPicsInfo, PicList, item, PicMd5Sum)
   * is five levels deep and has a few dozen elements; anything far beyond is not WeChat's.
   */
  public static final int MAX_DEPTH = 8;
  public static final int MAX_ELEMENTS = 512;

  private static final ThreadLocal<DocumentBuilder> BUILDERS = ThreadLocal.withInitial(WeChatXml::newBuilder);

  private WeChatXml() {}

  private static DocumentBuilder newBuilder() {
    try {
      DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature("http://xml.org/sax/features/external-general-entities", false);
      f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      f.setXIncludeAware(false);
      f.setExpandEntityReferences(false);
      f.setNamespaceAware(false);
      DocumentBuilder builder = f.newDocumentBuilder();
      builder.setErrorHandler(null); // no stderr noise; errors still throw
      return builder;
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the XML parser cannot be configured securely", e);
    }
  }

  /**
   * The root's child elements by name (text content, CDATA unwrapped, first occurrence wins).
   * The root must be {@code <xml>}.
   */
  public static Map<String, String> parse(String xml) {
    if (xml == null || xml.isBlank()) throw new MalformedXmlException("the body is empty");
    Document doc;
    try {
      DocumentBuilder builder = BUILDERS.get();
      builder.reset();
      builder.setErrorHandler(null);
      doc = builder.parse(new InputSource(new StringReader(xml)));
    } catch (SAXException | IOException e) {
      throw new MalformedXmlException("the body is not well-formed XML without DOCTYPE or entities");
    }
    Element root = doc.getDocumentElement();
    if (!"xml".equals(root.getTagName())) throw new MalformedXmlException("the root element must be <xml>");
    checkShape(root);
    Map<String, String> fields = new LinkedHashMap<>();
    for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e) fields.putIfAbsent(e.getTagName(), e.getTextContent());
    }
    return fields;
  }

  /** Refuses trees deeper than {@link #MAX_DEPTH} or with more than {@link #MAX_ELEMENTS} elements (iteratively: no stack to overflow). */
  private static void checkShape(Element root) {
    int elements = 0;
    int depth = 1;
    Node n = root;
    while (n != null) {
      if (n instanceof Element) {
        if (++elements > MAX_ELEMENTS) throw new MalformedXmlException("the body has too many elements");
        if (depth > MAX_DEPTH) throw new MalformedXmlException("the body is nested too deeply");
      }
      Node child = n instanceof Element ? n.getFirstChild() : null;
      if (child != null) {
        n = child;
        depth++;
        continue;
      }
      while (n != null && n != root && n.getNextSibling() == null) {
        n = n.getParentNode();
        depth--;
      }
      n = (n == null || n == root) ? null : n.getNextSibling();
    }
  }

  /** Builds {@code <xml>} with one element per entry; Long/Integer values are written bare, as WeChat does. */
  public static String build(Map<String, ?> fields) {
    StringBuilder sb = new StringBuilder("<xml>");
    fields.forEach((name, value) -> appendElement(sb, name, value));
    return sb.append("</xml>").toString();
  }

  static void appendElement(StringBuilder sb, String name, Object value) {
    sb.append('<').append(name).append('>');
    if (value instanceof Number) sb.append(value);
    else sb.append(cdata(String.valueOf(value)));
    sb.append("</").append(name).append('>');
  }

  /** A CDATA section holding {@code text} exactly, even when it contains {@code ]]>}. */
  public static String cdata(String text) {
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>";
  }
}
