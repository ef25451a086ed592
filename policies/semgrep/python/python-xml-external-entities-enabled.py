import xml.sax
from xml.sax.handler import feature_external_ges

from lxml import etree


def positives(data):
    # ruleid: python-xml-external-entities-enabled
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True)
    # ruleid: python-xml-external-entities-enabled
    loose = etree.XMLParser(no_network=False)
    sax_parser = xml.sax.make_parser()
    # ruleid: python-xml-external-entities-enabled
    sax_parser.setFeature(feature_external_ges, True)
    return etree.fromstring(data, parser), loose


def negatives(data):
    # ok: python-xml-external-entities-enabled
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    # ok: python-xml-external-entities-enabled
    plain = etree.XMLParser(remove_blank_text=True)
    sax_parser = xml.sax.make_parser()
    # ok: python-xml-external-entities-enabled
    sax_parser.setFeature(feature_external_ges, False)
    return etree.fromstring(data, parser), plain
