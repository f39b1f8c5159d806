<?xml version="1.0" encoding="utf-8"?>
<!-- kb: an Atom feed opened in a browser shows as a page saying what a feed is, with its notes. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
                xmlns:atom="http://www.w3.org/2005/Atom" xmlns:kb="urn:kb:feed-page" exclude-result-prefixes="atom kb">
  <xsl:output method="html" encoding="utf-8" doctype-system="about:legacy-compat"/>
  <xsl:template match="/atom:feed">
    <html lang="{@xml:lang}" dir="{kb:page/@dir}">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="atom:title"/></title>
        <link rel="stylesheet" href="{kb:page/@css}"/>
      </head>
      <body>
        <header class="top"><nav><a class="brand" href="{kb:page/@home}">kb</a>
          <a href="{kb:page/@follow}"><xsl:value-of select="kb:page/@follow-label"/></a></nav></header>
        <main id="main">
          <h1><xsl:value-of select="atom:title"/></h1>
          <p class="notice"><xsl:value-of select="kb:page"/></p>
          <ol class="hits">
            <xsl:for-each select="atom:entry">
              <li lang="{@xml:lang}">
                <h2 class="feed-entry"><a href="{atom:link[@rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a></h2>
                <p class="meta"><time datetime="{atom:updated}"><xsl:value-of select="substring(atom:updated, 1, 10)"/></time></p>
                <p class="snippet"><xsl:value-of select="atom:summary"/></p>
              </li>
            </xsl:for-each>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
