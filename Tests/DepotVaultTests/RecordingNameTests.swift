import DepotVault
import Testing

struct RecordingNameTests {
    @Test func agentNamesBecomeMetadata() {
        let fields = Dictionary(
            uniqueKeysWithValues: RecordingName.metadata(of: "1564859471_6-474162_oprit_577-283-727-375_1153_27.mp4"))
        #expect(fields["event-timestamp"] == "1564859471")
        #expect(fields["event-microseconds"] == "6-474162")
        #expect(fields["event-instancename"] == "oprit")
        #expect(fields["event-regioncoordinates"] == "577-283-727-375")
        #expect(fields["event-numberofchanges"] == "1153")
        #expect(fields["duration"] == "27")
    }

    @Test func cameraNamesWithSpacesAndUnderscores() {
        let spaced = Dictionary(
            uniqueKeysWithValues: RecordingName.metadata(of: "1691532014_6-967003_Cam 1_200-200-400-400_276_769.mp4"))
        #expect(spaced["event-instancename"] == "Cam 1")
        let underscored = Dictionary(
            uniqueKeysWithValues: RecordingName.metadata(of: "1691532014_6-967003_back_yard_0-0-0-0_-1_25498.mp4"))
        #expect(underscored["event-instancename"] == "back_yard")
        #expect(underscored["event-numberofchanges"] == "-1")
    }

    @Test func otherNamesCarryNoFields() {
        #expect(RecordingName.metadata(of: "holiday.mp4").isEmpty)
        #expect(RecordingName.metadata(of: "a_b_c_d_e_f.mp4").isEmpty)
        #expect(RecordingName.metadata(of: "1691532014_6-967003_cam_200-200-400_276_769.mp4").isEmpty)
    }

    @Test func tusUploadMetadata() {
        let values = RecordingName.uploadMetadata("capture SVBDYW1lcmE=,filename YS5tcDQ=,fps MjU=,empty")
        #expect(values == ["capture": "IPCamera", "filename": "a.mp4", "fps": "25", "empty": ""])
    }
}
