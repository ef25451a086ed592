import java.io.InputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.SAXParser;
import javax.xml.parsers.SAXParserFactory;
import org.w3c.dom.Document;

public class XmlParsing {
    public Document positives(InputStream body) throws Exception {
        // ruleid: java-xxe-documentbuilderfactory
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setNamespaceAware(true);
        DocumentBuilder builder = dbf.newDocumentBuilder();
        // ruleid: java-xxe-documentbuilderfactory
        SAXParserFactory spf = SAXParserFactory.newInstance();
        SAXParser parser = spf.newSAXParser();
        return builder.parse(body);
    }

    public Document secureDisallowDoctype(InputStream body) throws Exception {
        // ok: java-xxe-documentbuilderfactory
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        dbf.setXIncludeAware(false);
        return dbf.newDocumentBuilder().parse(body);
    }

    public Document secureExternalEntitiesOff(InputStream body) throws Exception {
        DocumentBuilderFactory dbf;
        // ok: java-xxe-documentbuilderfactory
        dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://xml.org/sax/features/external-general-entities", false);
        dbf.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        return dbf.newDocumentBuilder().parse(body);
    }

    public SAXParser secureAccessExternalDtd() throws Exception {
        // ok: java-xxe-documentbuilderfactory
        SAXParserFactory spf = SAXParserFactory.newInstance();
        spf.setNamespaceAware(true);
        SAXParser parser = spf.newSAXParser();
        parser.setProperty(XMLConstants.ACCESS_EXTERNAL_DTD, "");
        return parser;
    }

    public Document secureProcessing(InputStream body) throws Exception {
        // ok: java-xxe-documentbuilderfactory
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        return dbf.newDocumentBuilder().parse(body);
    }

    public Document onlyOneKindOff(InputStream body) throws Exception {
        // ruleid: java-xxe-documentbuilderfactory
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://xml.org/sax/features/external-general-entities", false);
        return dbf.newDocumentBuilder().parse(body);
    }
}
