extension Engine {
    /// The chunk addresses of SSE-C objects (current and older versions). Their chunks are sealed
    /// under a key only the client holds, so fsck cannot check their GCM tag: it checks their
    /// records' CRC (the segment scan does) and that the index places them, nothing more.
    func customerKeyChunkAddresses() throws -> Set<[UInt8]> {
        let (objectTable, versionTable) = (objects, self.versionTable)
        return try indexStore.read { txn in
            var addresses = Set<[UInt8]>()
            for table in [objectTable, versionTable] {
                try txn.scan(table) { _, value in
                    let record = try ObjectRecord.decodeValue(value)
                    if CustomerKeyEncryption.isCustomerKey(record.encryption) {
                        for ref in record.manifest { addresses.insert(ref.hash) }
                    }
                    return true
                }
            }
            return addresses
        }
    }
}
