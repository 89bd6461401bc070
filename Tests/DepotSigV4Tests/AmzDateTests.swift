import DepotSigV4
import Testing

struct AmzDateTests {
    @Test func formatsTheExampleTimes() {
        #expect(AmzDate(unixSeconds: 0).iso8601Basic == "19700101T000000Z")
        #expect(AmzDate(unixSeconds: Fixtures.suiteTime).iso8601Basic == "20150830T123600Z")
        #expect(AmzDate(unixSeconds: Fixtures.s3Time).iso8601Basic == "20130524T000000Z")
        #expect(AmzDate(unixSeconds: Fixtures.s3Time).dateStamp == "20130524")
        #expect(AmzDate(unixSeconds: 951_782_400).iso8601Basic == "20000229T000000Z")  // a leap day
        #expect(AmzDate(unixSeconds: 4_102_444_799).iso8601Basic == "20991231T235959Z")
        #expect(AmzDate(unixSeconds: 4_107_542_399).iso8601Basic == "21000228T235959Z")  // 2100 is not leap
        #expect(AmzDate(unixSeconds: 4_107_542_400).iso8601Basic == "21000301T000000Z")
        #expect(AmzDate(unixSeconds: -1).iso8601Basic == "19691231T235959Z")
    }

    @Test func parsesWhatItFormats() {
        for seconds in stride(from: -86_400 * 400, through: 4_102_444_800, by: 7_654_321) {
            let date = AmzDate(unixSeconds: seconds)
            #expect(AmzDate(iso8601Basic: date.iso8601Basic) == date)
        }
        #expect(AmzDate(iso8601Basic: "20150830T123600Z")?.unixSeconds == Fixtures.suiteTime)
    }

    @Test func refusesMalformedOrImpossibleTimes() {
        for text in [
            "", "20150830T123600", "20150830 123600Z", "2015-08-30T12:36:00Z", "20150830T123600z", "2015083OT123600Z",
            "20150230T000000Z", "20150431T000000Z", "20151301T000000Z", "20150830T240000Z", "20150830T126000Z",
            "20150830T123660Z", "20150000T000000Z", "20190229T000000Z", "+0150830T123600Z",
        ] {
            #expect(AmzDate(iso8601Basic: text) == nil, "\(text)")
        }
        #expect(AmzDate(iso8601Basic: "20160229T000000Z") != nil)
    }

    @Test func parsesTheHTTPDateHeader() {
        #expect(AmzDate(httpDate: "Fri, 24 May 2013 00:00:00 GMT")?.unixSeconds == Fixtures.s3Time)
        #expect(AmzDate(httpDate: "Sun, 30 Aug 2015 12:36:00 GMT")?.unixSeconds == Fixtures.suiteTime)
        // RFC 9110 asks recipients to accept the obsolete forms too, and RFC 2822 writers use numeric zones.
        for text in [
            "Fri, 24 May 2013 00:00:00 UTC", "Fri 24 May 2013 00:00:00 GMT", "Friday, 24-May-13 00:00:00 GMT",
            "Fri May 24 00:00:00 2013", "Fri, 24 May 2013 00:00:00 -0000", "Fri, 24 May 2013 00:00:00 +0000",
            "24 May 2013 00:00:00 GMT", "Fri, 24 May 2013 01:30:00 +0130", "Thu, 23 May 2013 19:00:00 -0500",
            "Fri, 24 May 2013 00:00 GMT",
        ] {
            #expect(AmzDate(httpDate: text)?.unixSeconds == Fixtures.s3Time, "\(text)")
        }
        for text in [
            "Fri, 24 Mai 2013 00:00:00 GMT", "Fri, 31 Jun 2013 00:00:00 GMT", "Fri, 24 May 2013 24:00:00 GMT",
            "Fri, 24 May 2013 00:00:00 EST", "Fri, 24 May 2013 00:00:00 +000", "Fri, 24 May 13 00:00:00 GMT", "",
            "Fri, 24 May 2013", "1369353600",
        ] {
            #expect(AmzDate(httpDate: text) == nil, "\(text)")
        }
    }

    /// The S3 developer guide's Signature Version 2 examples date requests like this.
    @Test func parsesRFC2822DatesWithNumericZones() {
        #expect(HTTPDate.parse("Tue, 27 Mar 2007 19:36:42 -0000") == 1_175_024_202)
        #expect(HTTPDate.parse("Tue, 27 Mar 2007 19:36:42 +0000") == 1_175_024_202)
        #expect(HTTPDate.format(1_175_024_202) == "Tue, 27 Mar 2007 19:36:42 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.parse(HTTPDate.format(Fixtures.suiteTime)) == Fixtures.suiteTime)
    }
}
